import type { ReplayFrames } from './event-log';

// What the account hub and its relay hubs (worker/hub/relay-hub.ts) say to each other. Past
// RELAY_FANOUT_THRESHOLD subscribers the account hub sends new subscribers to a relay, which holds
// their sockets; the account hub sends each event once per relay; ids, order and replay stay the
// account hub's (a relay replays from the account hub's log, page by page).

/** The account hub's answer to a subscribe it will not hold itself: which relay to use. */
export const RELAY_HEADER = 'x-switchboard-relay';

/** A relay hub's Durable Object name. */
export const relayName = (accountId: string, n: number) => `relay:${accountId}:${n}`;

/** Parses `relay:<account>:<n>`; undefined for any other name. */
export function parseRelayName(name: string | undefined): { accountId: string; n: number } | undefined {
  const m = /^relay:([0-9a-f-]{36}):(\d+)$/.exec(name ?? '');
  return m ? { accountId: m[1] as string, n: Number(m[2]) } : undefined;
}

/** One frame on its way to a relay: a logged one carries its id, an ephemeral one none. */
export interface RelayFrame {
  topic: string;
  id?: number;
  text: string;
  /** Only for this subscriber of the relay (a module's `send` from `onSubscribe`). */
  to?: string;
}

export interface RelayDelivery {
  frames: RelayFrame[];
  /**
   * After a batch could not be delivered: the account hub's last id of each of the relay's topics,
   * so a relay behind it fills the gap from the log even if no further event comes.
   */
  heads?: Record<string, number>;
}

export interface RelayDeliveryResult {
  /** The relay's open sockets per topic of the batch (the account hub reconciles its registry). */
  sockets: Record<string, number>;
  /** Frames sent to sockets (usage). */
  deliveries: number;
  /** True on the first call after the relay was constructed (usage: a wake-up). */
  woke: boolean;
}

/** A subscriber a relay accepted, as it asks the account hub to register it. */
export interface RelayJoin {
  relay: number;
  sid: string;
  topic: string;
  userId: string | null;
  name: string | null;
  /** Resume after this id; absent for a live-only subscribe. */
  after?: number;
  pageBytes: number;
}

export type RelayStart =
  | { kind: 'live' }
  | { kind: 'reset'; frame: string }
  | { kind: 'page'; page: ReplayFrames };

export interface RelayJoinResult {
  /** The topic's last id when the subscriber was registered: everything after it reaches the relay. */
  lastId: number;
  start: RelayStart;
  /** Frames the modules' `onSubscribe` sent to this subscriber only, in order. */
  frames: string[];
}

/** A replay page for a relay's subscriber; `reset` when `after` is no longer in the log. */
export type RelayPageResult = { kind: 'page'; page: ReplayFrames } | { kind: 'reset' };
