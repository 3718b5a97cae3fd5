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
  loading: boolean;
  loadingMore: boolean;
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
  /** Bumped by every new filter: answers to an older one are dropped. */
  private generation = 0;
  /** The newest version of each card heard live since the filter was set. */
  private live = new Map<string, EscalationCard>();
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
      error: null,
    });
  }

  /** Shows another filter: its first page, from the server. */
  setFilter(filter: QueueFilter): Promise<void> {
    this.state.update((s) => ({ ...s, filter, cards: [], nextCursor: null, loading: true, error: null }));
    this.live.clear();
    return this.reload();
  }

  /**
   * The first page again (a `reset` of the stream, a retry after an error), as long as the list the
   * reader holds (up to the API's largest page): the cards stay shown meanwhile and are replaced
   * in place, so a reader scrolled down through pages they loaded keeps their place.
   */
  reload(): Promise<void> {
    const held = this.state.get().cards.length;
    return this.fetchPage(
      ++this.generation,
      null,
      'loading',
      Math.min(Math.max(this.pageSize, held), MAX_PAGE_LIMIT),
    );
  }

  /** The next page, after the last one loaded. */
  async loadMore(): Promise<void> {
    const { nextCursor, loadingMore } = this.state.get();
    if (!nextCursor || loadingMore) return;
    return this.fetchPage(this.generation, nextCursor, 'loadingMore', this.pageSize);
  }

  /**
   * The page after `cursor` (null: the first, which replaces the cards) under the flag `busy`; an
   * answer that arrives after a newer `reload` (another `generation`) is dropped.
   */
  private async fetchPage(
    generation: number,
    cursor: string | null,
    busy: 'loading' | 'loadingMore',
    limit: number,
  ): Promise<void> {
    const { filter } = this.state.get();
    this.state.update((s) => ({ ...s, [busy]: true, error: null }));
    try {
      const page = await this.opts.load(filter, cursor, limit);
      if (generation !== this.generation) return;
      this.state.update((s) => ({
        ...s,
        cards: this.withPage(cursor === null ? [] : s.cards, page.items),
        nextCursor: page.next_cursor,
        counts: page.counts,
        [busy]: false,
      }));
    } catch (err) {
      if (generation !== this.generation) return;
      this.state.update((s) => ({ ...s, [busy]: false, error: (err as Error).message }));
    }
  }

  /** A card as the stream says it is now. */
  receive(card: EscalationCard, type: EscalationEvent['type']): void {
    const newest = this.live.get(card.id);
    if (newest && newest.version >= card.version) return;
    this.live.set(card.id, card);
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
