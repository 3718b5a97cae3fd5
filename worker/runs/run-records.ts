import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { RunErrorCode } from '../contract/events';
import { isTerminalStatus, LIVE_RUN_STATUSES } from '../contract/statuses';
import { type Db, dbErrorKind, sqlState } from '../db/client';
import { type RunRow, runs } from '../db/schema';
import { cleanJson, cleanText } from '../lib/json-safety';
import { log } from '../lib/log';
import type { RunRecord } from './registry';

// Postgres is the system of record of a run; the hub's registry is authoritative while it lives.
// These helpers copy hub transitions into Postgres, and end runs the hub no longer knows.

/**
 * Copies a registry record into the run's row. Only a newer hub version lands, so a retried or
 * late write never moves a run backwards. Returns whether the row was written.
 */
export async function syncRunRecord(
  db: Db,
  run: RunRecord,
  opts: { omitState?: boolean } = {},
): Promise<boolean> {
  const ended = run.endedAt !== null;
  const rows = await db
    .update(runs)
    .set({
      status: run.status,
      ...(opts.omitState ? {} : { state: run.checkpoint.state }),
      errorCode: run.errorCode,
      errorMessage: run.errorMessage,
      pausedNode: run.pausedNode,
      pausedPrompt: run.pausedPrompt,
      currentNode: run.checkpoint.next,
      startedAt: new Date(run.startedAt),
      endedAt: ended ? new Date(run.endedAt as number) : null,
      activeMs: run.activeMs,
      durationMs: ended ? (run.endedAt as number) - run.startedAt : null,
      hubVersion: run.version,
      updatedAt: sql`now()`,
    })
    .where(and(eq(runs.id, run.id), eq(runs.accountId, run.accountId), lt(runs.hubVersion, run.version)))
    .returning({ id: runs.id });
  return rows.length > 0;
}

/** The record with every string Postgres could refuse (NUL, lone surrogates) cleaned. */
export function cleanRunRecord(run: RunRecord): RunRecord {
  const text = (s: string | null) => (s === null ? null : cleanText(s));
  return {
    ...run,
    checkpoint: {
      ...run.checkpoint,
      next: cleanText(run.checkpoint.next),
      state: cleanJson(run.checkpoint.state),
    },
    errorMessage: text(run.errorMessage),
    pausedNode: text(run.pausedNode),
    pausedPrompt: text(run.pausedPrompt),
  };
}

/**
 * `syncRunRecord`, for a record Postgres may refuse. A data exception (SQLSTATE class 22, such
 * as jsonb refusing `\u0000`) would fail identically on every retry and leave Postgres behind
 * forever, so a cleaned copy is written instead; if even that is refused, the record without its
 * state (status, error and timings still land). Other errors are thrown for the caller to retry.
 */
export async function syncRunRecordSafely(
  db: Db,
  run: RunRecord,
): Promise<{ written: boolean; repaired?: 'cleaned' | 'state_omitted' }> {
  try {
    return { written: await syncRunRecord(db, run) };
  } catch (err) {
    if (dbErrorKind(err) !== 'refused_value') throw err;
    log('warn', 'Postgres refused a run record; writing a cleaned copy', {
      runId: run.id,
      sqlState: sqlState(err),
    });
  }
  const cleaned = cleanRunRecord(run);
  try {
    return { written: await syncRunRecord(db, cleaned), repaired: 'cleaned' };
  } catch (err) {
    if (dbErrorKind(err) !== 'refused_value') throw err;
    log('error', 'Postgres refused a cleaned run record; writing it without its state', {
      runId: run.id,
      sqlState: sqlState(err),
    });
  }
  return { written: await syncRunRecord(db, cleaned, { omitState: true }), repaired: 'state_omitted' };
}

/**
 * Ends a run the hub does not know (lost, or never accepted) in Postgres only. Guarded on the
 * row still being live, so it never overwrites what the hub recorded.
 */
export async function endRunInPostgres(
  db: Db,
  row: RunRow,
  status: 'failed' | 'cancelled',
  code: RunErrorCode,
  message: string,
): Promise<RunRow | undefined> {
  const [updated] = await db
    .update(runs)
    .set({
      status,
      errorCode: code,
      errorMessage: message,
      endedAt: sql`now()`,
      durationMs: row.startedAt ? sql`(extract(epoch from (now() - ${runs.startedAt})) * 1000)::int` : 0,
      pausedNode: null,
      pausedPrompt: null,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(runs.id, row.id),
        eq(runs.accountId, row.accountId),
        eq(runs.hubVersion, row.hubVersion),
        inArray(runs.status, [...LIVE_RUN_STATUSES]),
      ),
    )
    .returning();
  return updated;
}

/**
 * Whether a run the hub does not know has been silent for longer than its own timeout: a live
 * row past that point can never finish, so it is reported as `lost`.
 */
export function isLost(row: RunRow, now = Date.now()): boolean {
  if (isTerminalStatus(row.status)) return false;
  if (row.status === 'paused') return now - row.updatedAt.getTime() > row.pauseTimeoutSeconds * 1000;
  const since = (row.startedAt ?? row.createdAt).getTime();
  return now - since > row.runTimeoutSeconds * 1000;
}
