import type { EscalationCard, EscalationEvent } from '../../../worker/contract/events';
import { MAX_PAGE_LIMIT } from '../../../worker/contract/paging';
import type { HandoffStatus, Role } from '../../../worker/contract/statuses';
import { type CardList, mergeCard } from './merge-cards';
import { matches, type QueueFilter } from './queue-filter';
import { Store } from './store';

// The queue as the reader filters it: pages from the server (GET /v1/escalations with the filter
// and a cursor), kept current by the live stream. A card that changes merges by version; one that
// stops matching the filter leaves, one that starts matching arrives; the counts per status are
// read again (at most once a second) after changes that move them.

/** One page of the filtered queue, as the server answers it. */
export interface QueuePage {
  items: EscalationCard[];
  next_cursor: string | null;
  counts: Record<HandoffStatus, number>;
}

export interface QueueViewState {
  filter: QueueFilter;
  cards: CardList;
  /** Where the next page starts; null when the last one is loaded. */
  nextCursor: string | null;
  /** Per status, the cards matching the rest of the filter; null until the first page. */
  counts: Record<HandoffStatus, number> | null;
  /** The list is being read from its first card: for a new filter (no cards yet) or again (the held cards stay shown). */
  loading: boolean;
  /** The next page is being read. */
  loadingMore: boolean;
  /**
   * No answer yet for this filter (a failed read is none), so there is nothing to show but
   * placeholders. A list read again (a stream `reset`) is not unread: an empty queue stays
   * "nothing here" rather than flashing.
   */
  unread: boolean;
  error: string | null;
}

export interface QueueViewOptions {
  load(filter: QueueFilter, cursor: string | null, limit: number): Promise<QueuePage>;
  user: { userId: string; role: Role };
  pageSize?: number;
  /** How long after a change the counts are read again (changes meanwhile share one read). */
  countsDelayMs?: number;
}

/** Changes that can move a card between statuses or in and out of "asking you". */
const MOVES: ReadonlySet<EscalationEvent['type']> = new Set([
  'escalation.created',
  'escalation.picked_up',
  'escalation.released',
  'escalation.reescalated',
  'escalation.resolved',
  'escalation.cancelled',
]);

export class QueueView {
  readonly state: Store<QueueViewState>;
  /** Bumped by every read from the first card (a new filter, a reload) and by `stop`: answers to an older one are dropped. */
  private generation = 0;
  /** The newest version of each card heard live since the filter was set. */
  private live = new Map<string, EscalationCard>();
  /** Cards heard since the list was last asked for from its first card: its answer may predate them. */
  private heardSinceRead = new Set<string>();
  private countsTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pageSize: number;

  constructor(
    private readonly opts: QueueViewOptions,
    filter: QueueFilter,
  ) {
    this.pageSize = opts.pageSize ?? 25;
    this.state = new Store<QueueViewState>({
      filter,
      cards: [],
      nextCursor: null,
      counts: null,
      loading: true,
      loadingMore: false,
      unread: true,
      error: null,
    });
  }

  /** Shows another filter: its first page, from the server. */
  setFilter(filter: QueueFilter): Promise<void> {
    this.state.update((s) => ({
      ...s,
      filter,
      cards: [],
      nextCursor: null,
      loading: true,
      unread: true,
      error: null,
    }));
    this.live.clear();
    return this.reload();
  }

  /**
   * The list again from its first card (a `reset` of the stream, a retry after an error), as long
   * as the list the reader holds: the cards stay shown meanwhile and are replaced in place, so a
   * reader scrolled down through pages they loaded keeps their place.
   */
  reload(): Promise<void> {
    const { filter, cards } = this.state.get();
    const want = Math.max(this.pageSize, cards.length);
    this.heardSinceRead.clear();
    return this.fetchInto(++this.generation, 'loading', () => this.readFirst(filter, want));
  }

  /** The next page, after the last one loaded (not while the list is read from its first card). */
  async loadMore(): Promise<void> {
    const { filter, nextCursor, loading, loadingMore } = this.state.get();
    if (!nextCursor || loading || loadingMore) return;
    return this.fetchInto(this.generation, 'loadingMore', () =>
      this.opts.load(filter, nextCursor, this.pageSize),
    );
  }

  /** The first `want` cards of `filter`, in pages of at most the API's largest. */
  private async readFirst(filter: QueueFilter, want: number): Promise<QueuePage> {
    let page = await this.opts.load(filter, null, Math.min(want, MAX_PAGE_LIMIT));
    const items = [...page.items];
    while (page.next_cursor !== null && items.length < want) {
      page = await this.opts.load(filter, page.next_cursor, Math.min(want - items.length, MAX_PAGE_LIMIT));
      items.push(...page.items);
    }
    return { ...page, items };
  }

  /**
   * `read`'s answer into the list under the flag `busy`: from the first card (`loading`) it
   * replaces the cards, else it adds to them. An answer that arrives after a newer first read
   * (another `generation`) is dropped; a first read also ends any "more" in flight, whose answer
   * belonged to the list being replaced.
   */
  private async fetchInto(
    generation: number,
    busy: 'loading' | 'loadingMore',
    read: () => Promise<QueuePage>,
  ): Promise<void> {
    this.state.update((s) => ({
      ...s,
      ...(busy === 'loading' ? { loading: true, loadingMore: false } : { loadingMore: true }),
      error: null,
    }));
    try {
      const page = await read();
      if (generation !== this.generation) return;
      this.state.update((s) => ({
        ...s,
        cards:
          busy === 'loading'
            ? this.withHeard(this.withPage([], page.items))
            : this.withPage(s.cards, page.items),
        nextCursor: page.next_cursor,
        counts: page.counts,
        [busy]: false,
        unread: false,
      }));
    } catch (err) {
      if (generation !== this.generation) return;
      // Not an answer: a list never read stays unread (no "nothing here" for a queue not seen).
      this.state.update((s) => ({ ...s, [busy]: false, error: (err as Error).message }));
    }
  }

  /** A card as the stream says it is now. */
  receive(card: EscalationCard, type: EscalationEvent['type']): void {
    const newest = this.live.get(card.id);
    if (newest && newest.version >= card.version) return;
    this.live.set(card.id, card);
    this.heardSinceRead.add(card.id);
    this.state.update((s) => {
      const held = s.cards.find((c) => c.id === card.id);
      if (held && held.version >= card.version) return s;
      if (matches(card, s.filter, this.opts.user)) {
        const merged = mergeCard(s.cards, card, { bound: false });
        return merged.change === 'unchanged' ? s : { ...s, cards: merged.cards };
      }
      return held ? { ...s, cards: s.cards.filter((c) => c.id !== card.id) } : s;
    });
    if (MOVES.has(type)) this.refreshCountsSoon();
  }

  stop(): void {
    this.generation++;
    clearTimeout(this.countsTimer);
  }

  /**
   * A page merged into the list. A card heard live in a newer version than the page's (the page
   * was read just before the change) is taken as heard, and only if it still matches.
   */
  private withPage(cards: CardList, items: readonly EscalationCard[]): CardList {
    const { filter } = this.state.get();
    let out = cards;
    for (const item of items) {
      const heard = this.live.get(item.id);
      const card = heard && heard.version > item.version ? heard : item;
      if (card !== item && !matches(card, filter, this.opts.user)) continue;
      out = mergeCard(out, card, { bound: false }).cards;
    }
    return out;
  }

  /** Cards heard since the first read began that its answer did not hold, where they still match. */
  private withHeard(cards: CardList): CardList {
    const { filter } = this.state.get();
    let out = cards;
    for (const id of this.heardSinceRead) {
      const card = this.live.get(id);
      if (card && matches(card, filter, this.opts.user)) out = mergeCard(out, card, { bound: false }).cards;
    }
    return out;
  }

  private refreshCountsSoon(): void {
    if (this.countsTimer !== undefined) return;
    this.countsTimer = setTimeout(() => {
      this.countsTimer = undefined;
      const generation = this.generation;
      const { filter } = this.state.get();
      this.opts
        .load(filter, null, 1)
        .then((page) => {
          if (generation === this.generation) this.state.update((s) => ({ ...s, counts: page.counts }));
        })
        .catch(() => undefined);
    }, this.opts.countsDelayMs ?? 1_000);
  }
}
