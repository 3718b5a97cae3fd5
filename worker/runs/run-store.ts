import { and, count, eq, inArray } from 'drizzle-orm';
import type { RunStatus } from '../contract/statuses';
import type { Db, DbOrTx } from '../db/client';
import { type GraphRow, type RunRow, runs } from '../db/schema';
import { findInAccount } from '../lib/account-rows';
import type { Identity } from '../lib/app-env';
import { keysetPage, type PageWindow } from '../lib/pagination';

// The run rows in Postgres as the API reads and writes them; the hub's copies of transitions go
// through run-records.ts.

/** The run, if it is in this account. */
export function findRun(db: Db, accountId: string, id: string): Promise<RunRow | undefined> {
  return findInAccount(db.select().from(runs).$dynamic(), runs, accountId, id);
}

/** The row as it is now, whoever wrote it last. */
export async function rereadRun(db: Db, id: string): Promise<RunRow | undefined> {
  const [row] = await db.select().from(runs).where(eq(runs.id, id));
  return row;
}

/**
 * The row of a run about to be started, written before the hub is asked: the run exists (and can
 * be cancelled or read) from the moment its id is answered.
 */
export async function insertRun(
  db: DbOrTx,
  who: Identity,
  graph: GraphRow,
  input: Record<string, unknown>,
  timeouts: { runTimeoutSeconds: number; pauseTimeoutSeconds: number },
  rerun?: { parentRunId: string; fromNode: string },
): Promise<RunRow> {
  const [row] = await db
    .insert(runs)
    .values({
      accountId: who.accountId,
      graphId: graph.id,
      graphVersion: graph.version,
      startedBy: who.userId,
      input,
      ...timeouts,
      ...(rerun ? { parentRunId: rerun.parentRunId, fromNode: rerun.fromNode } : {}),
    })
    .returning();
  if (!row) throw new Error('run insert returned no row');
  return row;
}

/** Removes the row of a run the hub refused to start, unless the hub has written to it since. */
export async function deleteUnstartedRun(db: Db, row: RunRow): Promise<void> {
  await db.delete(runs).where(and(eq(runs.id, row.id), eq(runs.hubVersion, 0)));
}

/**
 * One page of the account's runs, newest first, optionally of one status, one graph, and the
 * reruns of one run.
 */
export function listRuns(
  db: Db,
  accountId: string,
  opts: PageWindow & {
    status?: RunStatus | undefined;
    graphId?: string | undefined;
    parentRunId?: string | undefined;
  },
): Promise<RunRow[]> {
  const where = and(
    eq(runs.accountId, accountId),
    opts.status ? eq(runs.status, opts.status) : undefined,
    opts.graphId ? eq(runs.graphId, opts.graphId) : undefined,
    opts.parentRunId ? eq(runs.parentRunId, opts.parentRunId) : undefined,
  );
  return keysetPage(db.select().from(runs).$dynamic(), runs, where, opts);
}

/** How many reruns each of `ids` has (ids without any are absent). */
export async function rerunCounts(db: Db, accountId: string, ids: string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ parent: runs.parentRunId, n: count() })
    .from(runs)
    .where(and(eq(runs.accountId, accountId), inArray(runs.parentRunId, ids)))
    .groupBy(runs.parentRunId);
  return new Map(rows.flatMap((r) => (r.parent ? [[r.parent, r.n] as const] : [])));
}
