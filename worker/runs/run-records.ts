import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { RunErrorCode, RunEvent } from '../contract/events';
import { isOneOf, LIVE_RUN_STATUSES, TERMINAL_RUN_STATUSES } from '../contract/statuses';
import { type Db, isDatabaseError, sqlState } from '../db/client';
import { type RunRow, runs } from '../db/schema';
import { cleanJson, cleanText } from '../lib/json-safety';
import { log } from '../lib/log';
import type { RunRecord } from './registry';
import type { RunSnapshot } from './run-manager';

// Postgres is the system of record of a run; the hub's registry is authoritative while it lives.
// These helpers copy hub transitions into Postgres and render a run for the API.

export const isTerminalStatus = (s: string) => isOneOf(TERMINAL_RUN_STATUSES, s);

export const runTopic = (runId: string) => `run:${runId}`;

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

/** Postgres' "data exception" class: the value itself is refused (e.g. 22P05, `\u0000` in jsonb). */
export const isDataException = (err: unknown) => sqlState(err)?.startsWith('22') === true;

// SQLSTATE classes worth retrying: connection (08), transaction rollback (40), resources (53),
// object in use (55), operator intervention (57), system (58), internal (XX).
const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '40', '53', '55', '57', '58', 'XX']);

/**
 * Whether a failed write may succeed if retried as it is: Postgres unreachable or briefly
 * unable. A refused value, a constraint or a bug in our code will fail the same way every time.
 */
export function isTransientDbError(err: unknown): boolean {
  const code = sqlState(err);
  if (code !== undefined) return TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2));
  if (isDatabaseError(err)) return true;
  return err instanceof Error && /connect|socket|terminated|timeout|closed|ECONN|network/i.test(err.message);
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
    if (!isDataException(err)) throw err;
    log('warn', 'Postgres refused a run record; writing a cleaned copy', {
      runId: run.id,
      sqlState: sqlState(err),
    });
  }
  const cleaned = cleanRunRecord(run);
  try {
    return { written: await syncRunRecord(db, cleaned), repaired: 'cleaned' };
  } catch (err) {
    if (!isDataException(err)) throw err;
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

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

/** A run as the API shows it: the Postgres row, overlaid with the hub's live view when newer. */
export function runJson(row: RunRow, live?: RunSnapshot | null) {
  const useLive = live && live.version > row.hubVersion;
  const status = useLive ? live.status : row.status;
  const terminal = isTerminalStatus(status);
  const errorCode = useLive ? live.error_code : row.errorCode;
  const errorMessage = useLive ? live.error_message : row.errorMessage;
  const pausedNode = useLive ? live.paused_node : row.pausedNode;
  const pausedPrompt = useLive ? live.paused_prompt : row.pausedPrompt;
  const state = (live ? live.state : row.state) ?? row.input;
  const startedAt = useLive ? iso(live.started_at) : (row.startedAt?.toISOString() ?? null);
  const endedAt = useLive ? iso(live.ended_at) : (row.endedAt?.toISOString() ?? null);
  const durationMs = useLive ? live.duration_ms : row.durationMs;
  return {
    id: row.id,
    graph_id: row.graphId,
    graph_version: row.graphVersion,
    started_by: row.startedBy,
    status,
    input: row.input,
    state,
    final_state: status === 'completed' ? state : null,
    error: errorCode ? { code: errorCode, message: errorMessage ?? '' } : null,
    paused: status === 'paused' && pausedNode ? { node_id: pausedNode, prompt: pausedPrompt ?? '' } : null,
    current_node: live ? live.next_node : row.currentNode,
    created_at: row.createdAt.toISOString(),
    started_at: startedAt,
    ended_at: endedAt,
    active_ms: live ? live.active_ms : row.activeMs,
    duration_ms: terminal ? durationMs : null,
    last_event_id: live ? live.last_event_id : null,
    stream_url: `/v1/runs/${row.id}/stream`,
  };
}

/** The terminal event of a finished run, rebuilt from its record (its log may be gone). */
export function terminalEventOf(view: ReturnType<typeof runJson>): RunEvent {
  if (view.status === 'completed') {
    return {
      type: 'graph_completed',
      data: {
        final_state: (view.state ?? {}) as Record<string, unknown>,
        duration_ms: view.duration_ms ?? 0,
      },
    };
  }
  const fallback: Record<string, RunErrorCode> = {
    cancelled: 'cancelled',
    timed_out: 'timeout',
    failed: 'internal',
  };
  return {
    type: 'error',
    data: {
      code: (view.error?.code as RunErrorCode | undefined) ?? fallback[view.status] ?? 'internal',
      message: view.error?.message ?? `run ${view.status}`,
    },
  };
}
