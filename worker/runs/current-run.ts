import { isTerminalStatus } from '../contract/statuses';
import type { Db } from '../db/client';
import type { RunRow } from '../db/schema';
import { hubFor } from '../hub/hub-client';
import { log } from '../lib/log';
import { endRunInPostgres, isLost } from './run-records';
import { rereadRun } from './run-store';
import type { RunSnapshot } from './run-types';
import { runJson } from './run-view';

/**
 * The run's current view: Postgres, overlaid with the hub's registry while the hub has it. A
 * live row the hub does not know, silent for longer than its timeout, is ended as `lost`.
 * `live` is the hub's snapshot when it answered with one.
 */
export async function currentRunView(
  env: Env,
  db: Db,
  row: RunRow,
  askHubWhenEnded = false,
): Promise<{ view: ReturnType<typeof runJson>; live: RunSnapshot | null }> {
  if (isTerminalStatus(row.status) && !askHubWhenEnded) return { view: runJson(row), live: null };
  let live: RunSnapshot | null | undefined;
  try {
    live = (await hubFor(env, row.accountId).runSnapshot(row.id)) as RunSnapshot | null;
  } catch (err) {
    // Postgres still answers; the view is as of the last transition it recorded.
    log('warn', 'run snapshot unavailable', { runId: row.id, err });
    live = undefined;
  }
  if (live === null && isLost(row)) {
    const ended = await endRunInPostgres(
      db,
      row,
      'failed',
      'lost',
      'the run was lost: its hub has no record of it and it outlived its timeout',
    );
    if (ended) return { view: runJson(ended), live: null };
    return { view: runJson((await rereadRun(db, row.id)) ?? row), live: null };
  }
  return { view: runJson(row, live), live: live ?? null };
}
