import { and, eq, lt, min, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client';
import { runIdempotencyKeys } from '../db/schema';
import type { Identity } from '../lib/app-env';

// `Idempotency-Key` on `POST /v1/graphs/:id/run` (DESIGN.md "Runs, second stage"): a key is the
// caller's (account, user, key), remembered 24 hours with the request it came with.

/** How long a key answers with its run. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60_000;

/** What a run start is compared by: the graph and the initial state. */
export interface StartRequest {
  graph_id: string;
  input: Record<string, unknown>;
}

export type KeyLookup =
  | { kind: 'none' }
  | { kind: 'same'; runId: string }
  /** The key was used within 24 hours for another request. */
  | { kind: 'other' };

/**
 * What the caller's key answers now. A key older than 24 hours is deleted here, so it never
 * answers even if the pruning job has not run yet. The request is compared as jsonb: key order
 * and the spelling of numbers do not make two requests different.
 */
export async function lookupKey(
  db: Db,
  who: Identity,
  key: string,
  request: StartRequest,
): Promise<KeyLookup> {
  const [row] = await db
    .select({
      runId: runIdempotencyKeys.runId,
      same: sql<boolean>`${runIdempotencyKeys.request} = ${JSON.stringify(request)}::jsonb`,
      fresh: sql<boolean>`${runIdempotencyKeys.createdAt} > now() - make_interval(secs => ${IDEMPOTENCY_KEY_TTL_MS / 1000})`,
    })
    .from(runIdempotencyKeys)
    .where(keyOf(who, key));
  if (!row) return { kind: 'none' };
  if (!row.fresh) {
    await db.delete(runIdempotencyKeys).where(and(keyOf(who, key), eq(runIdempotencyKeys.runId, row.runId)));
    return { kind: 'none' };
  }
  return row.same ? { kind: 'same', runId: row.runId } : { kind: 'other' };
}

/** Records the key for a run, in the transaction that inserts the run. A twin's key is a unique violation (23505). */
export async function recordKey(
  tx: DbOrTx,
  who: Identity,
  key: string,
  request: StartRequest,
  runId: string,
): Promise<void> {
  await tx.insert(runIdempotencyKeys).values({
    accountId: who.accountId,
    userId: who.userId,
    key,
    request,
    runId,
  });
}

/** Lets the key go (the run could not be started): the client may retry with the same key. */
export async function forgetKey(db: Db, who: Identity, key: string, runId: string): Promise<void> {
  await db.delete(runIdempotencyKeys).where(and(keyOf(who, key), eq(runIdempotencyKeys.runId, runId)));
}

/**
 * Deletes the account's keys older than 24 hours; answers when the oldest key left expires (to
 * prune again then), or undefined when none is left.
 */
export async function pruneKeys(db: Db, accountId: string, now = Date.now()): Promise<number | undefined> {
  const cutoff = new Date(now - IDEMPOTENCY_KEY_TTL_MS);
  await db
    .delete(runIdempotencyKeys)
    .where(and(eq(runIdempotencyKeys.accountId, accountId), lt(runIdempotencyKeys.createdAt, cutoff)));
  const [left] = await db
    .select({ oldest: min(runIdempotencyKeys.createdAt) })
    .from(runIdempotencyKeys)
    .where(eq(runIdempotencyKeys.accountId, accountId));
  return left?.oldest ? left.oldest.getTime() + IDEMPOTENCY_KEY_TTL_MS : undefined;
}

const keyOf = (who: Identity, key: string) =>
  and(
    eq(runIdempotencyKeys.accountId, who.accountId),
    eq(runIdempotencyKeys.userId, who.userId),
    eq(runIdempotencyKeys.key, key),
  );
