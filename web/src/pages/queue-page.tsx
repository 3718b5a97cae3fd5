import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { EscalationCard } from '../../../worker/contract/events';
import { HANDOFF_STATUSES, type HandoffStatus, SEVERITIES } from '../../../worker/contract/statuses';
import { EscalationCardView } from '../components/escalation-card';
import { Icon } from '../components/icon';
import { ToggleChips } from '../components/toggle-chips';
import { ApiFailure, api, data, errorMessage, retryRead } from '../lib/api';
import { canAct, type Session } from '../lib/auth';
import type { EscalationFeed } from '../lib/escalation-feed';
import { feed } from '../lib/live-feed';
import {
  apiQuery,
  DEFAULT_FILTER,
  describeFilter,
  filterFromQuery,
  filterToQuery,
  type QueueFilter,
  STATUS_WORDS,
} from '../lib/queue-filter';
import { moveSelection, queueKey, selectionAfter } from '../lib/queue-keys';
import { QueueView } from '../lib/queue-view';
import { navigate, paths, replaceHash } from '../lib/router';
import { isAskingMe } from '../lib/sla';
import { useStore } from '../lib/store';
import { useNow } from '../lib/use-now';

/** Cards per page. */
const PAGE_SIZE = 25;
/** A search is sent once typing pauses this long. */
const SEARCH_PAUSE_MS = 250;

/** A status as the queue names it, as a label: "Waiting", "Picked up". */
const statusLabel = (s: HandoffStatus) => STATUS_WORDS[s].charAt(0).toUpperCase() + STATUS_WORDS[s].slice(1);

export function QueuePage({ user, query }: { user: Session; query: string }) {
  const f = useStore(feed);
  if (!f) return null;
  return <Queue feed={f} user={user} query={query} />;
}

/** Someone else got it first: say who, plainly. */
export function pickupFailureText(err: unknown): string {
  if (err instanceof ApiFailure && err.code === 'already_picked_up') {
    const by = (err.details as { picked_up_by?: { name?: string } } | undefined)?.picked_up_by?.name;
    return `${by ?? 'Someone else'} got it first: this escalation is already picked up.`;
  }
  return `Could not pick it up: ${errorMessage(err)}`;
}

const loadPage = (filter: QueueFilter, cursor: string | null, limit: number) =>
  retryRead(() =>
    data(
      api.GET('/v1/escalations', {
        params: { query: { ...apiQuery(filter), limit, ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );

function Queue({ feed: f, user, query }: { feed: EscalationFeed; user: Session; query: string }) {
  const feedState = useStore(f.state);
  const view = useMemo(
    () => new QueueView({ load: loadPage, user, pageSize: PAGE_SIZE }, filterFromQuery(query)),
    [user.userId, user.role],
  );
  const state = useStore(view.state);
  const filter = state.filter;
  // Every second: the SLA countdowns.
  const now = useNow(1_000);
  const [busy, setBusy] = useState<string | null>(null);
  const [notices, setNotices] = useState<Record<string, string>>({});
  const [text, setText] = useState(filter.q);
  const [selected, setSelected] = useState<string | null>(null);
  const [said, say] = useState('');
  const [askingCount, setAskingCount] = useState<number | null>(null);
  const search = useRef<HTMLInputElement>(null);

  // The first page, then every live change of a card, through the filter.
  useEffect(() => {
    void view.reload();
    const stop = f.listen({
      card: (card, type) => view.receive(card, type),
      reset: () => void view.reload(),
    });
    return () => {
      stop();
      view.stop();
    };
  }, [view]);

  // The address changed (back, a link, a pasted URL): show what it says.
  useEffect(() => {
    if (query === filterToQuery(view.state.get().filter)) return;
    const next = filterFromQuery(query);
    setText(next.q);
    void view.setFilter(next);
  }, [query]);

  // How many open cards ask the reader, whatever the filter: read again as the counts move.
  useEffect(() => {
    let live = true;
    void loadPage({ ...DEFAULT_FILTER, statuses: ['open'], asking: true }, null, 1)
      .then((page) => live && setAskingCount(page.counts.open))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [state.counts]);

  const apply = (next: QueueFilter) => {
    replaceHash(paths.queue(filterToQuery(next)));
    void view.setFilter(next);
  };

  // The search follows the typing, once it pauses.
  useEffect(() => {
    if (text === filter.q) return;
    const timer = setTimeout(() => apply({ ...view.state.get().filter, q: text }), SEARCH_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const cards = state.cards;
  const ids = cards.map((c) => c.id);
  const total =
    state.counts === null
      ? null
      : (filter.statuses.length ? filter.statuses : HANDOFF_STATUSES).reduce(
          (n, s) => n + (state.counts?.[s] ?? 0),
          0,
        );

  const pickUp = async (card: EscalationCard) => {
    setBusy(card.id);
    try {
      const updated = await data(api.POST('/v1/handoffs/{id}/pickup', { params: { path: { id: card.id } } }));
      f.merge(updated);
      view.receive(updated, 'escalation.picked_up');
      navigate(paths.handoff(card.id));
    } catch (err) {
      const message = pickupFailureText(err);
      setNotices((n) => ({ ...n, [card.id]: message }));
      say(message);
      if (err instanceof ApiFailure && err.status === 409) void f.reload();
    } finally {
      setBusy(null);
    }
  };

  const focusCard = (id: string, options?: FocusOptions) => {
    document.querySelector<HTMLElement>(`li.card[data-id="${CSS.escape(id)}"]`)?.focus(options);
  };

  // The chosen card follows the focus (a click or Tab onto a card chooses it too), and the card
  // that last had the focus is remembered: removing a focused element fires no event, it only
  // leaves the focus on the page.
  const lastFocused = useRef<string | null>(null);
  useEffect(() => {
    const onFocusIn = (e: FocusEvent) => {
      const target = e.target instanceof Element ? e.target : null;
      const id = target?.closest('li.card[data-id]')?.getAttribute('data-id') ?? null;
      lastFocused.current = id;
      if (id) setSelected(id);
    };
    document.addEventListener('focusin', onFocusIn);
    return () => document.removeEventListener('focusin', onFocusIn);
  }, []);

  // A chosen card that left the list under the reader (picked up elsewhere, gone on a read again)
  // hands its place to its neighbour, and the focus follows when it was on the card, without
  // scrolling. Another filter's list is not a change under the reader: the choice stays if it is
  // listed there, and nothing moves.
  const listed = useRef({ filter: '', ids: [] as string[] });
  const idsKey = ids.join();
  const filterKey = filterToQuery(filter);
  useEffect(() => {
    if (state.unread) return;
    const before = listed.current;
    listed.current = { filter: filterKey, ids };
    if (before.filter !== filterKey) {
      if (selected !== null && !ids.includes(selected)) setSelected(null);
      return;
    }
    const replacement = selectionAfter(before.ids, ids, selected);
    if (replacement === selected) return;
    const focusLost = document.activeElement === document.body || document.activeElement === null;
    const hadFocus = selected !== null && lastFocused.current === selected && focusLost;
    setSelected(replacement);
    if (replacement && hadFocus) focusCard(replacement, { preventScroll: true });
  }, [idsKey, filterKey, state.unread]);

  // j/k move, Enter opens, p picks up, / searches; never while typing in a field.
  const keys = useRef({ ids, selected, cards });
  keys.current = { ids, selected, cards };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const onCard = target?.matches?.('li.card[data-id]') ?? false;
      const command = queueKey(e, onCard);
      if (!command) return;
      const { ids: list, selected: current, cards: held } = keys.current;
      const chosen = onCard ? (target?.getAttribute('data-id') ?? current) : current;
      switch (command) {
        case 'search':
          e.preventDefault();
          search.current?.focus();
          search.current?.select();
          return;
        case 'next':
        case 'previous': {
          const next = moveSelection(list, chosen, command);
          if (!next) return say('No escalation matches this filter.');
          e.preventDefault();
          setSelected(next);
          focusCard(next);
          say(`${list.indexOf(next) + 1} of ${list.length}`);
          return;
        }
        case 'open':
          if (!chosen) return;
          e.preventDefault();
          navigate(paths.handoff(chosen));
          return;
        case 'pick-up': {
          const card = held.find((c) => c.id === chosen);
          if (!card) return say('Move to a card first (j or k), then press p to pick it up.');
          e.preventDefault();
          if (!canAct(user)) return say('Viewers cannot pick up escalations.');
          if (card.status !== 'open')
            return say(`This one is not waiting: ${card.status.replace('_', ' ')}.`);
          say(`Picking up ${card.session.title}…`);
          void pickUp(card);
          return;
        }
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const changed = filterKey !== '';
  return (
    <section aria-labelledby="queue-heading" class="queue">
      <div class="page-head">
        <h1 id="queue-heading">Escalation queue</h1>
        <p class="counts" aria-live="polite" data-testid="queue-counts">
          {/* Not "Showing 0 of N" while another filter's first page is on its way. */}
          {total === null || state.unread ? (
            'Loading…'
          ) : (
            <>
              Showing <span data-testid="shown-count">{cards.length}</span> of{' '}
              <span data-testid="total-count">{total}</span>: {describeFilter(filter)}
            </>
          )}
        </p>
      </div>
      <search aria-label="Filter the queue">
        <form
          class="queue-filters"
          onSubmit={(e) => {
            e.preventDefault();
            apply({ ...filter, q: text });
          }}
        >
          <div class="search-field">
            <label for="queue-search">Search</label>
            <input
              id="queue-search"
              ref={search}
              type="search"
              value={text}
              maxLength={200}
              placeholder="Title, summary or customer"
              aria-keyshortcuts="/"
              onInput={(e) => setText(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key !== 'Escape') return;
                // Back to the list: the keys work again.
                e.currentTarget.blur();
                if (selected) focusCard(selected);
              }}
            />
          </div>
          <ToggleChips
            legend="Status"
            values={HANDOFF_STATUSES}
            kind="status"
            chosen={filter.statuses}
            onChange={(statuses) => apply({ ...filter, statuses })}
            describedBy="status-help"
          >
            {(s) => (
              <>
                {statusLabel(s)}
                <span class="chip-count" data-testid={`count-${s}`}>
                  {state.counts ? state.counts[s] : '–'}
                </span>
              </>
            )}
          </ToggleChips>
          <span id="status-help" class="visually-hidden">
            Choose one or more; none chosen shows every status. The numbers count what each status would show
            with the other filters.
          </span>
          <ToggleChips
            legend="Severity"
            values={SEVERITIES}
            shown={[...SEVERITIES].reverse()}
            kind="severity"
            chosen={filter.severities}
            onChange={(severities) => apply({ ...filter, severities })}
          >
            {(s) => (
              <>
                <span class="chip-dot" aria-hidden="true" />
                {s}
              </>
            )}
          </ToggleChips>
          <div class="chips">
            <button
              type="button"
              class="chip asking-chip"
              aria-pressed={filter.asking}
              onClick={() => apply({ ...filter, asking: !filter.asking })}
            >
              <Icon name="bell" /> Asking you
              {askingCount !== null && (
                <span class="chip-count" data-testid="asking-count">
                  {askingCount}
                </span>
              )}
            </button>
            {changed && (
              <button
                type="button"
                class="link-button"
                onClick={() => {
                  setText('');
                  apply(DEFAULT_FILTER);
                }}
              >
                Reset filters
              </button>
            )}
          </div>
        </form>
      </search>
      <p class="hint keys" id="queue-keys">
        Keys: <kbd>j</kbd> and <kbd>k</kbd> move, <kbd>Enter</kbd> opens, <kbd>p</kbd> picks up, <kbd>/</kbd>{' '}
        searches.
      </p>
      <p class="visually-hidden" role="status" data-testid="queue-announcer">
        {said}
      </p>
      {(state.error || feedState.error) && (
        <p class="error" role="alert">
          Could not load the queue: {state.error ?? feedState.error}.{' '}
          <button type="button" class="link-button" onClick={() => void view.reload()}>
            Try again
          </button>
        </p>
      )}
      {/* Read again (a stream reset, Try again), the cards (or "nothing here") stay until the answer. */}
      {state.unread && cards.length === 0 ? (
        // Not read yet: placeholders, or nothing beside the error of a first read that failed.
        state.error ? null : (
          <ul class="cards" aria-busy="true" aria-label="Escalations">
            {[0, 1, 2].map((i) => (
              <li key={i} class="card skeleton" aria-hidden="true" />
            ))}
          </ul>
        )
      ) : cards.length === 0 ? (
        filter.asking ? (
          <p class="empty">
            Nothing is asking you right now. A card asks you when it is transferred to you, or when
            re-escalation reaches a level that names you (or admins, if you are one).
          </p>
        ) : changed ? (
          <p class="empty">No escalation matches {describeFilter(filter)}.</p>
        ) : (
          <p class="empty">
            Nothing here. New escalations appear at the top as they happen; open a{' '}
            <a href={paths.sessions()}>session</a> to escalate one.
          </p>
        )
      ) : (
        <ul
          class="cards"
          aria-busy={state.loading}
          aria-label="Escalations"
          aria-describedby="queue-keys"
          aria-live="polite"
          aria-relevant="additions"
        >
          {cards.map((card) => (
            <EscalationCardView
              key={card.id}
              card={card}
              now={now}
              entering={feedState.arrived.has(card.id)}
              canPickUp={canAct(user)}
              busy={busy === card.id}
              notice={notices[card.id] ?? null}
              onPickUp={pickUp}
              askingMe={isAskingMe(card, user)}
              viewers={(feedState.presence.viewing[card.id] ?? []).filter((p) => p.user_id !== user.userId)}
              selected={selected === card.id}
            />
          ))}
        </ul>
      )}
      {/* Kept (disabled) while the list is read again, so the page does not shrink under a reader at its foot. */}
      {state.nextCursor && (
        <div class="more">
          <button
            type="button"
            onClick={() => void view.loadMore()}
            disabled={state.loading || state.loadingMore}
          >
            {state.loadingMore
              ? 'Loading…'
              : `Show ${Math.min(PAGE_SIZE, Math.max(0, (total ?? 0) - cards.length)) || PAGE_SIZE} more`}
          </button>
          <span class="hint">
            {cards.length} of {total ?? '…'} shown
          </span>
        </div>
      )}
    </section>
  );
}
