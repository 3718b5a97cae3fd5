import { getConfig } from '../config';
import { withDb } from '../db/client';
import type { Hub } from '../hub/hub-module';
import type { Job } from '../hub/job-queue';
import type { RunCheckpoints } from './run-checkpoints';
import { pruneKeys } from './run-idempotency';

// What a run leaves behind that outlives its log, and when it goes: its per-node checkpoints
// (7 days after it ended) and the account's Idempotency-Keys (24 hours after they were used).

/** The `run-checkpoints-purge` job: a finished run's checkpoints go 7 days after its end. */
export function purgeCheckpointsJob(hub: Hub, checkpoints: RunCheckpoints, job: Job): void {
  checkpoints.delete((job.payload as { runId: string }).runId);
  hub.jobs.complete(job.id);
}

/**
 * The `run-idempotency-prune` job (one per account): deletes the account's expired keys in
 * Postgres and comes back when the oldest key left expires. It is armed by keyed starts only,
 * so an account that sends no keys never wakes the database for it. A failure (Postgres down)
 * throws, and the job is retried with backoff.
 */
export async function pruneIdempotencyJob(hub: Hub, job: Job): Promise<void> {
  const next = await withDb(
    getConfig(hub.env),
    (work) => hub.waitUntil(work),
    (db) => pruneKeys(db, hub.name),
  );
  if (next === undefined) hub.jobs.complete(job.id);
  else hub.jobs.upsert(job.id, job.kind, job.payload, Math.max(next + 60_000, Date.now() + 60_000));
}
