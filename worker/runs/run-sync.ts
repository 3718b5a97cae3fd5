import { getConfig } from '../config';
import { isTransientDbError, withDb } from '../db/client';
import type { Hub } from '../hub/hub-module';
import type { Job } from '../hub/job-queue';
import { log } from '../lib/log';
import type { RunRegistry } from './registry';
import { syncRunRecordSafely } from './run-records';
import { RUN_SYNC_MAX_ATTEMPTS, runTopic } from './run-types';

/**
 * The `run-sync` job: copies the registry's record of a run to Postgres. Postgres down: retried
 * (with backoff) until it is back. Anything else fails the same way every time: given up after a
 * few attempts instead of retried forever. A transition that happens meanwhile re-arms the job.
 */
export async function syncRunJob(hub: Hub, registry: RunRegistry, job: Job): Promise<void> {
  const run = registry.get((job.payload as { runId: string }).runId);
  if (!run) return hub.jobs.complete(job.id);
  await withDb(
    getConfig(hub.env),
    (work) => hub.waitUntil(work),
    async (db) => {
      try {
        // A value Postgres refuses (NUL in the state) is written cleaned, never retried as is.
        await syncRunRecordSafely(db, run);
      } catch (err) {
        if (isTransientDbError(err) || job.attempts + 1 < RUN_SYNC_MAX_ATTEMPTS) throw err;
        log('error', 'run record could not be copied to Postgres; giving up', {
          runId: run.id,
          version: run.version,
          attempts: job.attempts + 1,
          err,
        });
      }
    },
  );
  if (registry.get(run.id)?.version === run.version) hub.jobs.complete(job.id);
}

/**
 * The `run-purge` job: a finished run's log, its topic row and its registry row go once Postgres
 * has its end (which then answers for it); until then the hub's copy stays.
 */
export function purgeRunJob(hub: Hub, registry: RunRegistry, job: Job): void {
  const { runId } = job.payload as { runId: string };
  if (hub.jobs.get(`run-sync:${runId}`)) {
    hub.jobs.upsert(job.id, job.kind, job.payload, Date.now() + 60_000);
    return;
  }
  hub.events.remove(runTopic(runId));
  registry.delete(runId);
  registry.deleteTombstone(runId);
  hub.jobs.complete(job.id);
}
