import { sqlState } from '../db/client';

// `Idempotency-Key` (DESIGN.md: handoff create and run start): a key is the caller's (account,
// user, key) and answers for 24 hours with what its first request made. One flow for every
// domain: the create writes the key with what it makes, in the same statement or transaction,
// under a unique index, so of two concurrent twins one writes and the other learns of it from the
// unique violation; the key's record then decides the answer. A domain supplies only where its
// keys live (`KeyStore`) and how to answer with what a key made.

/** How long a key answers with what it made. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60_000;

/** What a key remembers. */
export interface KeyRecord {
  /** What the key's first request made (a handoff's id, a run's id). */
  resourceId: string;
  /** That request, as JSON: compared with a repeat by `sameRequest`. */
  request: unknown;
  /** When the key was written (the database's clock). */
  createdAt: Date;
}

/** Where a domain keeps its keys. */
export interface KeyStore {
  find(key: string): Promise<KeyRecord | undefined>;
  /** Lets a key past its 24 hours go (that record only), so its next use starts afresh. */
  expire(key: string, record: KeyRecord): Promise<void>;
}

/** Whether a key written at `createdAt` still answers at `now`. */
export const isFresh = (createdAt: Date, now: number): boolean =>
  createdAt.getTime() > now - IDEMPOTENCY_KEY_TTL_MS;

/** JSON with object keys sorted, so two spellings of one value compare equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * Whether two requests are the same request: equal as JSON values, whatever the order of their
 * keys or the spelling of their numbers (both have been through `JSON.parse`, as jsonb compares).
 */
export function sameRequest(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

export type Made<T, R> =
  | { ok: true; value: T }
  /**
   * Refused, nothing written. `askKey`: a repeat of a request that got through may be refused
   * this way (a rate limit), so what the key made answers instead; otherwise the refusal stands.
   */
  | { ok: false; value: R; askKey: boolean };

export type IdempotentOutcome<T, R, V> =
  /** Made now (the key, if any, written with it). */
  | { kind: 'created'; value: T }
  /** Refused by the domain (nothing written), and the key answers nothing instead. */
  | { kind: 'refused'; value: R }
  /** The key was used within 24 hours for this very request: what that request made. */
  | { kind: 'replayed'; value: V }
  /** The key was used within 24 hours for another request. */
  | { kind: 'key_reused' };

export interface IdempotentCall<T, R, V> {
  /** The request's Idempotency-Key; without one, `create` simply runs. */
  key: string | undefined;
  /** The request as JSON, as the store's `find` gives it back for a repeat. */
  request: unknown;
  store: KeyStore;
  /**
   * Makes the resource and writes the key with it atomically; a key already written makes it
   * fail with a unique violation (SQLSTATE 23505) and write nothing. A refusal writes nothing.
   */
  create: () => Promise<Made<T, R>>;
  /** What a repeat answers: the resource the key made, or undefined if it is gone. */
  replay: (resourceId: string) => Promise<V | undefined>;
  now?: () => number;
}

/**
 * Runs a create under an Idempotency-Key. A repeat within 24 hours answers with what the key made
 * (`replayed`) or, for another request, `key_reused`; a create refused with `askKey` (a rate
 * limit) still answers a repeat of a request that did get through. A key past 24 hours never answers, even
 * before any pruning ran: it is let go and the create tried again.
 */
export async function idempotent<T, R, V>(
  call: IdempotentCall<T, R, V>,
): Promise<IdempotentOutcome<T, R, V>> {
  const { key } = call;
  if (key === undefined) {
    const made = await call.create();
    return made.ok ? { kind: 'created', value: made.value } : { kind: 'refused', value: made.value };
  }
  const now = call.now ?? Date.now;
  /** What the key answers now, or undefined when it answers nothing (none, expired, gone). */
  const answer = async (): Promise<IdempotentOutcome<T, R, V> | undefined> => {
    const record = await call.store.find(key);
    if (!record) return undefined;
    if (!isFresh(record.createdAt, now())) {
      await call.store.expire(key, record);
      return undefined;
    }
    if (!sameRequest(record.request, call.request)) return { kind: 'key_reused' };
    const value = await call.replay(record.resourceId);
    return value === undefined ? undefined : { kind: 'replayed', value };
  };
  // Twice at most: the second try follows a key that was let go (expired) or whose twin vanished.
  for (let attempt = 1; ; attempt++) {
    let made: Made<T, R>;
    try {
      made = await call.create();
    } catch (err) {
      if (sqlState(err) !== '23505') throw err;
      const answered = await answer();
      if (answered) return answered;
      if (attempt >= 2) throw err;
      continue;
    }
    if (made.ok) return { kind: 'created', value: made.value };
    return (made.askKey ? await answer() : undefined) ?? { kind: 'refused', value: made.value };
  }
}
