import type { RunStatus } from '../contract/statuses';
import { type Db, transaction } from '../db/client';
import type { GraphRow, RunRow } from '../db/schema';
import type { Graph } from '../graphs/graph-schema';
import { hubFor } from '../hub/hub-client';
import type { Identity } from '../lib/app-env';
import { idempotent, type Made } from '../lib/idempotency';
import { log } from '../lib/log';
import { currentRunView } from './current-run';
import { forgetKey, recordKey, runKeyStore, type StartRequest } from './run-idempotency';
import { endRunInPostgres } from './run-records';
import { deleteUnstartedRun, insertRun, rereadRun } from './run-store';
import type { LimitRefusal, RunLimits, RunSnapshot, StartRunResult } from './run-types';

export interface RunStartSettings {
  limits: RunLimits;
  runTimeoutSeconds: number;
  pauseTimeoutSeconds: number;
}

export interface RunStartOptions {
  /** The request's `Idempotency-Key`: the same key and body answer the same run for 24 hours. */
  idempotencyKey?: string | undefined;
  /** A rerun: starts at `fromNode` (with `input` as its state) and names its parent. */
  rerun?: { parentRunId: string; fromNode: string };
}

export type RunStartOutcome =
  /** `replayed`: the key was used before with this very request, and this is that run. */
  | { ok: true; run: RunRow; status: RunStatus; replayed?: true }
  /** The hub could not be reached and did not start it; the row is ended as failed. */
  | { ok: false; reason: 'hub_unavailable' }
  /** The Idempotency-Key was used within 24 hours for another request. */
  | { ok: false; reason: 'key_reused' }
  /** The hub refused it; the row is gone, as if the request had never been made. */
  | LimitRefusal
  | { ok: false; reason: 'exists' };

/**
 * Starts a run of one of the account's graphs: the row first (so the run exists from the moment
 * its id is answered), then the hub, which executes it. With an Idempotency-Key, the key is
 * written in the row's transaction, so of two concurrent twins one inserts and the other answers
 * with its run.
 */
export async function startGraphRun(
  env: Env,
  db: Db,
  who: Identity,
  graph: GraphRow,
  input: Record<string, unknown>,
  settings: RunStartSettings,
  opts: RunStartOptions = {},
): Promise<RunStartOutcome> {
  const key = opts.idempotencyKey;
  const request: StartRequest = { graph_id: graph.id, input };
  const { runTimeoutSeconds, pauseTimeoutSeconds } = settings;
  const timeouts = { runTimeoutSeconds, pauseTimeoutSeconds };
  // The row first, with the key in its transaction: a repeat (or a concurrent twin) of a keyed
  // start answers with the run its key made, and never reaches the hub.
  const made = await idempotent({
    key,
    request,
    store: runKeyStore(db, who),
    create: async (): Promise<Made<RunRow, never>> => ({
      ok: true,
      value: key
        ? await transaction(db, async (tx) => {
            const inserted = await insertRun(tx, who, graph, input, timeouts, opts.rerun);
            await recordKey(tx, who, key, request, inserted.id);
            return inserted;
          })
        : await insertRun(db, who, graph, input, timeouts, opts.rerun),
    }),
    replay: (runId) => replayRun(env, db, runId),
  });
  if (made.kind === 'replayed') return made.value;
  if (made.kind === 'key_reused') return { ok: false, reason: 'key_reused' };
  if (made.kind !== 'created') return made.value;
  const row = made.value;
  const hub = hubFor(env, who.accountId);
  let result: StartRunResult;
  try {
    result = (await hub.startRun({
      runId: row.id,
      accountId: who.accountId,
      userId: who.userId,
      graphId: graph.id,
      graphVersion: graph.version,
      graph: graph.schema as Graph,
      input,
      limits: settings.limits,
      runTimeoutSeconds,
      pauseTimeoutSeconds,
      ...(opts.rerun ? { startAt: opts.rerun.fromNode, parentRunId: opts.rerun.parentRunId } : {}),
      ...(key ? { idempotencyKey: true } : {}),
    })) as StartRunResult;
  } catch (err) {
    log('warn', 'hub refused to start a run', { runId: row.id, err });
    // The call may have failed after the hub committed the run (the answer was lost): ask it.
    // If it has the run, the start worked, and answering 503 would make the client start a
    // duplicate while this one runs.
    const live = await (hub.runSnapshot(row.id) as Promise<RunSnapshot | null>).catch(() => undefined);
    if (!live) {
      // Not started (or the hub cannot say). If it did start after all, its first transition
      // (a newer version) overwrites this. The key is let go: a retry with it starts afresh.
      await endRunInPostgres(db, row, 'failed', 'internal', 'the account hub could not start the run').catch(
        () => {},
      );
      if (key) await forgetKey(db, who, key, row.id).catch(() => {});
      return { ok: false, reason: 'hub_unavailable' };
    }
    result = { ok: true, status: live.status };
  }
  if (!result.ok && result.reason === 'cancelled') {
    // Cancelled before the hub saw the start: the run exists, and ended. The canceller marks
    // the row too; doing it here as well covers a canceller that stopped half-way.
    await endRunInPostgres(db, row, 'cancelled', 'cancelled', 'cancelled by a user').catch(() => {});
    return { ok: true, run: row, status: 'cancelled' };
  }
  if (!result.ok) {
    // The key goes with the row (cascade): a retry after a 429 may use it again.
    await deleteUnstartedRun(db, row);
    return result.reason === 'limit' ? result : { ok: false, reason: 'exists' };
  }
  return { ok: true, run: row, status: result.status };
}

/** What a repeated key answers: its run, with the status as it is now. */
async function replayRun(env: Env, db: Db, runId: string): Promise<RunStartOutcome | undefined> {
  const run = await rereadRun(db, runId);
  if (!run) return undefined;
  // The status as it is now: the hub's while the run lives (Postgres may lag it by one sync).
  const { view } = await currentRunView(env, db, run);
  return { ok: true, run, status: view.status, replayed: true };
}
