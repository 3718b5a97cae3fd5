import { and, eq } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client';
import { runIdempotencyKeys } from '../db/schema';
import { pruneCreatedBefore } from '../lib/account-rows';
import type { Identity } from '../lib/app-env';
import { IDEMPOTENCY_KEY_TTL_MS, type KeyStore } from '../lib/idempotency';

// Where `Idempotency-Key`s of `POST /v1/graphs/:id/run` live (DESIGN.md "Runs, second stage"):
// the `run_idempotency_keys` table, each with the request it came with. The flow, the 24 hours
// and the comparison of requests are the shared ones (`lib/idempotency.ts`).

/** What a run start is compared by: the graph and the initial state. */
export interface StartRequest {
  graph_id: string;
  input: Record<string, unknown>;
}

/** The caller's run keys, for `idempotent()`. */
export function runKeyStore(db: Db, who: Identity): KeyStore {
  return {
    async find(key) {
      const [row] = await db
        .select({
          runId: runIdempotencyKeys.runId,
          request: runIdempotencyKeys.request,
          createdAt: runIdempotencyKeys.createdAt,
        })
        .from(runIdempotencyKeys)
        .where(keyOf(who, key));
      return row && { resourceId: row.runId, request: row.request, createdAt: row.createdAt };
    },
    async expire(key, record) {
      await forgetKey(db, who, key, record.resourceId);
    },
  };
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

/** Lets the key go (the run could not be started, or its 24 hours are over): it may be used afresh. */
export async function forgetKey(db: Db, who: Identity, key: string, runId: string): Promise<void> {
  await db.delete(runIdempotencyKeys).where(and(keyOf(who, key), eq(runIdempotencyKeys.runId, runId)));
}

/**
 * Deletes the account's keys older than 24 hours; answers when the oldest key left expires (to
 * prune again then), or undefined when none is left.
 */
export async function pruneKeys(db: Db, accountId: string, now = Date.now()): Promise<number | undefined> {
  const oldest = await pruneCreatedBefore(
    db,
    runIdempotencyKeys,
    accountId,
    new Date(now - IDEMPOTENCY_KEY_TTL_MS),
  );
  return oldest ? oldest.getTime() + IDEMPOTENCY_KEY_TTL_MS : undefined;
}

const keyOf = (who: Identity, key: string) =>
  and(
    eq(runIdempotencyKeys.accountId, who.accountId),
    eq(runIdempotencyKeys.userId, who.userId),
    eq(runIdempotencyKeys.key, key),
  );
