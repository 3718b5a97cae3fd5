import type { RunStatus } from '../contract/statuses';
import type { Db } from '../db/client';
import type { RunRow } from '../db/schema';
import type { Graph } from '../graphs/graph-schema';
import { findGraph } from '../graphs/graph-store';
import { hubFor } from '../hub/hub-client';
import type { Identity } from '../lib/app-env';
import { log } from '../lib/log';
import { endRunInPostgres } from './run-records';
import { deleteUnstartedRun, insertRun } from './run-store';
import type { LimitRefusal, RunLimits, RunSnapshot, StartRunResult } from './run-types';

export interface RunStartSettings {
  limits: RunLimits;
  runTimeoutSeconds: number;
  pauseTimeoutSeconds: number;
}

export type RunStartOutcome =
  | { ok: true; run: RunRow; status: RunStatus }
  | { ok: false; reason: 'no_graph' }
  /** The hub could not be reached and did not start it; the row is ended as failed. */
  | { ok: false; reason: 'hub_unavailable' }
  /** The hub refused it; the row is gone, as if the request had never been made. */
  | LimitRefusal
  | { ok: false; reason: 'exists' };

/**
 * Starts a run of one of the account's graphs: the row first (so the run exists from the moment
 * its id is answered), then the hub, which executes it.
 */
export async function startRun(
  env: Env,
  db: Db,
  who: Identity,
  graphId: string,
  input: Record<string, unknown>,
  settings: RunStartSettings,
): Promise<RunStartOutcome> {
  const graph = await findGraph(db, who.accountId, graphId);
  if (!graph) return { ok: false, reason: 'no_graph' };
  const { runTimeoutSeconds, pauseTimeoutSeconds } = settings;
  const row = await insertRun(db, who, graph, input, { runTimeoutSeconds, pauseTimeoutSeconds });
  const hub = hubFor(env, who.accountId);
  let result: StartRunResult;
  try {
    result = (await hub.startRun({
      runId: row.id,
      accountId: who.accountId,
      userId: who.userId,
      graphId,
      graphVersion: graph.version,
      graph: graph.schema as Graph,
      input,
      limits: settings.limits,
      runTimeoutSeconds,
      pauseTimeoutSeconds,
    })) as StartRunResult;
  } catch (err) {
    log('warn', 'hub refused to start a run', { runId: row.id, err });
    // The call may have failed after the hub committed the run (the answer was lost): ask it.
    // If it has the run, the start worked, and answering 503 would make the client start a
    // duplicate while this one runs.
    const live = await (hub.runSnapshot(row.id) as Promise<RunSnapshot | null>).catch(() => undefined);
    if (!live) {
      // Not started (or the hub cannot say). If it did start after all, its first transition
      // (a newer version) overwrites this.
      await endRunInPostgres(db, row, 'failed', 'internal', 'the account hub could not start the run').catch(
        () => {},
      );
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
    await deleteUnstartedRun(db, row);
    return result.reason === 'limit' ? result : { ok: false, reason: 'exists' };
  }
  return { ok: true, run: row, status: result.status };
}
