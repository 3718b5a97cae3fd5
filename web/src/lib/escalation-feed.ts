import {
  ESCALATION_EVENT_TYPES,
  type EscalationCard,
  type EscalationEvent,
  type PresenceEvent,
  type PresenceSnapshot,
  type ResetEvent,
} from '../../../worker/contract/events';
import type { Schema } from './api';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff';
import { type CardList, mergeCard, mergeCards } from './merge-cards';
import { assertNever } from './run-view';
import {
  EventStream,
  type EventStreamOptions,
  type StreamEventMessage,
  type StreamStatus,
} from './sse-client';
import { Store } from './store';

// The escalation queue of the signed-in account: the snapshot, then the live stream from the
// snapshot's log position, so nothing between the two is lost; cards merge by version, so
// nothing is doubled. One feed serves every screen (queue, hand-off) for as long as the user
// is signed in.

/** The queue's snapshot, as `GET /v1/escalations` answers it (what the feed uses of it). */
export type Snapshot = Pick<Schema<'EscalationSnapshot'>, 'items' | 'next_cursor' | 'last_event_id'>;

/** Who else hears of each card change the stream brings, and of a `reset` (see `listen`). */
export interface FeedListener {
  card?(card: EscalationCard, type: EscalationEvent['type']): void;
  /** The stream could not resume: the feed reloaded its snapshot; a listener should reload too. */
  reset?(): void;
}

export interface FeedState {
  cards: CardList;
  /** Card ids that arrived live, after the first snapshot: these slide in. */
  arrived: ReadonlySet<string>;
  loading: boolean;
  error: string | null;
  stream: StreamStatus;
  /** Who has the queue open and who looks at which card (ephemeral: sent again on reconnect). */
  presence: PresenceSnapshot;
}

export interface FeedOptions {
  loadSnapshot: () => Promise<Snapshot>;
  streamUrl: string;
  headers: () => Record<string, string>;
  /** A card this client had never seen arrived live. */
  onNewCard?: (card: EscalationCard) => void;
  fetch?: typeof fetch;
  backoff?: BackoffOptions;
  idleTimeoutMs?: number;
}

const known = new Set<string>([...ESCALATION_EVENT_TYPES, 'reset', 'presence']);
const NO_PRESENCE: PresenceSnapshot = { online: [], viewing: {} };

/** A feed with no card yet: a feed's own state until its snapshot, or a stand-in for no feed at all. */
export const emptyFeed = (loading: boolean, stream: StreamStatus): FeedState => ({
  cards: [],
  arrived: new Set(),
  loading,
  error: null,
  stream,
  presence: NO_PRESENCE,
});

/** The ids that slid in, with `id`, kept only while their card is held (the list is bounded). */
function arrivedWith(
  arrived: ReadonlySet<string>,
  cards: CardList,
  id: string | undefined,
): ReadonlySet<string> {
  const held = new Set(cards.map((c) => c.id));
  const next = new Set([...arrived, ...(id === undefined ? [] : [id])].filter((x) => held.has(x)));
  return next.size === arrived.size && (id === undefined || arrived.has(id)) ? arrived : next;
}

export class EscalationFeed {
  readonly state = new Store(emptyFeed(true, { state: 'connecting', attempt: 0 }));
  private stream: EventStream | undefined;
  private stopped = false;
  private readonly listeners = new Set<FeedListener>();
  private reloading: Promise<void> | undefined;

  constructor(private readonly opts: FeedOptions) {}

  /** The snapshot, then the stream from its position; a snapshot that fails is asked again (attempt n). */
  async start(attempt = 0): Promise<void> {
    let snapshot: Snapshot;
    try {
      snapshot = await this.opts.loadSnapshot();
    } catch (err) {
      this.state.update((s) => ({ ...s, loading: false, error: (err as Error).message }));
      if (this.stopped) return;
      // Asked again as a stream reconnects: soon, then less often.
      const wait = backoffDelay(attempt, this.opts.backoff ?? DEFAULT_BACKOFF);
      await new Promise((r) => setTimeout(r, wait));
      if (!this.stopped) return this.start(attempt + 1);
      return;
    }
    if (this.stopped) return;
    this.state.update((s) => ({
      ...s,
      loading: false,
      error: null,
      cards: mergeCards(s.cards, snapshot.items),
    }));
    const streamOpts: EventStreamOptions = {
      url: this.opts.streamUrl,
      headers: this.opts.headers,
      lastEventId: String(snapshot.last_event_id),
      onEvent: (e) => this.handle(e),
      onStatus: (status) => this.state.update((s) => ({ ...s, stream: status })),
    };
    if (this.opts.fetch) streamOpts.fetch = this.opts.fetch;
    if (this.opts.backoff) streamOpts.backoff = this.opts.backoff;
    if (this.opts.idleTimeoutMs) streamOpts.idleTimeoutMs = this.opts.idleTimeoutMs;
    this.stream = new EventStream(streamOpts);
    await this.stream.start();
  }

  stop() {
    this.stopped = true;
    this.stream?.stop();
  }

  reconnectNow() {
    this.stream?.reconnectNow();
  }

  /**
   * Hears every card change the stream brings (the queue's filtered, paged view keeps its own
   * list from them) and every reset; returns the way to stop.
   */
  listen(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  card(id: string): EscalationCard | undefined {
    return this.state.get().cards.find((c) => c.id === id);
  }

  /** Folds in a card learnt outside the stream (a pick-up's answer), by the same version rule. */
  merge(card: EscalationCard) {
    this.state.update((s) => {
      const r = mergeCard(s.cards, card);
      return r.change === 'unchanged' ? s : { ...s, cards: r.cards };
    });
  }

  /** The snapshot again (after `reset`): merged, so cards that arrive meanwhile are kept. */
  reload(): Promise<void> {
    this.reloading ??= this.opts
      .loadSnapshot()
      .then((snap) =>
        this.state.update((s) => ({ ...s, error: null, cards: mergeCards(s.cards, snap.items) })),
      )
      .catch((err: Error) => this.state.update((s) => ({ ...s, error: err.message })))
      .finally(() => {
        this.reloading = undefined;
      });
    return this.reloading;
  }

  private handle(msg: StreamEventMessage): undefined {
    if (!known.has(msg.type)) return undefined;
    const event = { type: msg.type, data: msg.data } as EscalationEvent | PresenceEvent | ResetEvent;
    switch (event.type) {
      case 'reset':
        void this.reload().then(() => {
          for (const l of this.listeners) l.reset?.();
        });
        return undefined;
      case 'presence':
        this.state.update((s) => ({ ...s, presence: event.data }));
        return undefined;
      case 'escalation.created':
      case 'escalation.assessed':
      case 'escalation.picked_up':
      case 'escalation.released':
      case 'escalation.reescalated':
      case 'escalation.sla_warning':
      case 'escalation.sla_breached':
      case 'escalation.resolved':
      case 'escalation.cancelled': {
        const card = event.data.card;
        let added = false;
        this.state.update((s) => {
          const r = mergeCard(s.cards, card);
          if (r.change === 'unchanged') return s;
          // Only a creation is news; a later event for a card outside the snapshot is just merged.
          added = r.change === 'added' && event.type === 'escalation.created';
          return {
            ...s,
            cards: r.cards,
            arrived: arrivedWith(s.arrived, r.cards, added ? card.id : undefined),
          };
        });
        if (added) this.opts.onNewCard?.(card);
        for (const l of this.listeners) l.card?.(card, event.type);
        return undefined;
      }
      default:
        return assertNever(event);
    }
  }
}
