import { useEffect, useState } from 'preact/hooks';
import type { EscalationCard } from '../../../worker/contract/events';
import {
  ACTIVE_HANDOFF_STATUSES,
  HANDOFF_STATUSES,
  type HandoffStatus,
} from '../../../worker/contract/statuses';
import { EscalationCardView } from '../components/escalation-card';
import { ApiFailure, api, data, errorMessage } from '../lib/api';
import { canAct, type Session } from '../lib/auth';
import type { EscalationFeed } from '../lib/escalation-feed';
import { feed } from '../lib/live-feed';
import { navigate, paths } from '../lib/router';
import { isAskingMe } from '../lib/sla';
import { useStore } from '../lib/store';
import { useNow } from '../lib/use-now';

type Filter = 'active' | 'open' | 'asking' | 'all';
const byStatus =
  (statuses: readonly HandoffStatus[]) =>
  (card: EscalationCard): boolean =>
    statuses.includes(card.status);
const FILTERS: { value: Filter; label: string; show: (card: EscalationCard, user: Session) => boolean }[] = [
  { value: 'active', label: 'Active', show: byStatus(ACTIVE_HANDOFF_STATUSES) },
  { value: 'open', label: 'Waiting', show: byStatus(['open']) },
  { value: 'asking', label: 'Asking you', show: isAskingMe },
  { value: 'all', label: 'All', show: byStatus(HANDOFF_STATUSES) },
];

export function QueuePage({ user }: { user: Session }) {
  const f = useStore(feed);
  if (!f) return null;
  return <Queue feed={f} user={user} />;
}

/** Someone else got it first: say who, plainly. */
export function pickupFailureText(err: unknown): string {
  if (err instanceof ApiFailure && err.code === 'already_picked_up') {
    const by = (err.details as { picked_up_by?: { name?: string } } | undefined)?.picked_up_by?.name;
    return `${by ?? 'Someone else'} got it first: this escalation is already picked up.`;
  }
  return `Could not pick it up: ${errorMessage(err)}`;
}

function Queue({ feed: f, user }: { feed: EscalationFeed; user: Session }) {
  const state = useStore(f.state);
  // Every second: the SLA countdowns.
  const now = useNow(1_000);
  const [filter, setFilter] = useState<Filter>('active');
  const [busy, setBusy] = useState<string | null>(null);
  const [notices, setNotices] = useState<Record<string, string>>({});
  const show = FILTERS.find((x) => x.value === filter)?.show ?? (() => true);
  const shown = state.cards.filter((c) => show(c, user));
  const open = state.cards.filter((c) => c.status === 'open').length;
  const asking = state.cards.filter((c) => isAskingMe(c, user)).length;

  // The cards asking the reader may be older than the feed's first page: ask the server for them
  // (asking=me); the stream keeps them current from then on.
  useEffect(() => {
    if (filter !== 'asking') return;
    let live = true;
    void data(api.GET('/v1/escalations', { params: { query: { asking: 'me', limit: 200 } } }))
      .then((snap) => {
        if (live) for (const c of snap.items) f.merge(c);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [filter]);

  const pickUp = async (card: EscalationCard) => {
    setBusy(card.id);
    try {
      const updated = await data(api.POST('/v1/handoffs/{id}/pickup', { params: { path: { id: card.id } } }));
      f.merge(updated);
      navigate(paths.handoff(card.id));
    } catch (err) {
      setNotices((n) => ({ ...n, [card.id]: pickupFailureText(err) }));
      if (err instanceof ApiFailure && err.status === 409) void f.reload();
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby="queue-heading">
      <div class="page-head">
        <h1 id="queue-heading">Escalation queue</h1>
        <p class="counts" aria-live="polite">
          <span data-testid="open-count">{open}</span> waiting
          {asking > 0 && (
            <>
              {' · '}
              <span data-testid="asking-count">{asking}</span> asking you
            </>
          )}
        </p>
      </div>
      <fieldset class="segmented">
        <legend class="visually-hidden">Show</legend>
        {FILTERS.map((x) => (
          <label key={x.value}>
            <input
              type="radio"
              name="queue-filter"
              value={x.value}
              checked={filter === x.value}
              onChange={() => setFilter(x.value)}
            />
            <span>
              {x.label}
              {x.value === 'asking' && asking > 0 ? ` (${asking})` : ''}
            </span>
          </label>
        ))}
      </fieldset>
      {state.error && (
        <p class="error" role="alert">
          Could not load the queue: {state.error}. Retrying…
        </p>
      )}
      {state.loading ? (
        <ul class="cards" aria-busy="true" aria-label="Escalations">
          {[0, 1, 2].map((i) => (
            <li key={i} class="card skeleton" aria-hidden="true" />
          ))}
        </ul>
      ) : shown.length === 0 ? (
        filter === 'asking' ? (
          <p class="empty">
            Nothing is asking you right now. A card asks you when it is transferred to you, or when
            re-escalation reaches a level that names you (or admins, if you are one).
          </p>
        ) : (
          <p class="empty">
            Nothing here. New escalations appear at the top as they happen; open a{' '}
            <a href={paths.sessions()}>session</a> to escalate one.
          </p>
        )
      ) : (
        <ul class="cards" aria-label="Escalations" aria-live="polite" aria-relevant="additions">
          {shown.map((card) => (
            <EscalationCardView
              key={card.id}
              card={card}
              now={now}
              entering={state.arrived.has(card.id)}
              canPickUp={canAct(user)}
              busy={busy === card.id}
              notice={notices[card.id] ?? null}
              onPickUp={pickUp}
              askingMe={isAskingMe(card, user)}
              viewers={(state.presence.viewing[card.id] ?? []).filter((p) => p.user_id !== user.userId)}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
