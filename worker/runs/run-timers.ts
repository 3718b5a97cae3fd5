import { isTerminalStatus } from '../contract/statuses';
import type { Job, JobQueue } from '../hub/job-queue';
import { IDEMPOTENCY_KEY_TTL_MS } from '../lib/idempotency';
import type { RunRecord, RunRegistry } from './registry';
import { RUN_CHECKPOINT_RETENTION_MS } from './run-checkpoints';
import { type FinishRun, RUN_LOG_RETENTION_MS, RUN_WATCHDOG_MS } from './run-types';

// Every timer of a run is a row of the hub's job table, keyed by the run id, so re-arming one is
// an upsert and a run never has two of a kind:
// - `run:<id>`          the watchdog: resumes execution that nothing in this instance drives;
//                       while a node waits between attempts it is due at the next attempt;
// - `run-deadline:<id>` the active-time or pause timeout;
// - `run-sync:<id>`     copies the latest transition to Postgres;
// - `run-purge:<id>`    drops the hub's copy of a finished run once Postgres has it;
// - `run-checkpoints:<id>`  drops a finished run's per-node checkpoints after 7 days;
// and one per account, `run-idempotency-prune`, which deletes expired Idempotency-Keys in Postgres.

export class RunTimers {
  constructor(private readonly jobs: JobQueue) {}

  /** When the run times out: its pause timeout while paused, else its remaining active time. */
  deadlineOf(run: RunRecord): number {
    if (run.status === 'paused') return (run.pausedAt ?? Date.now()) + run.pauseTimeoutMs;
    return (run.segmentStartedAt ?? Date.now()) + run.runTimeoutMs - run.activeMs;
  }

  scheduleDeadline(run: RunRecord): void {
    this.jobs.upsert(`run-deadline:${run.id}`, 'run-deadline', { runId: run.id }, this.deadlineOf(run));
  }

  /** (Re)arms the watchdog `after` ms from `now` (0: resume execution at the next alarm). */
  armWatchdog(runId: string, now: number, after = RUN_WATCHDOG_MS): void {
    this.jobs.upsert(`run:${runId}`, 'run', { runId }, now + after);
  }

  /** The run no longer executes (paused or ended): no watchdog. */
  stopWatchdog(runId: string): void {
    this.jobs.complete(`run:${runId}`);
  }

  scheduleSync(runId: string, now: number): void {
    this.jobs.upsert(`run-sync:${runId}`, 'run-sync', { runId }, now);
  }

  schedulePurge(runId: string, now: number): void {
    this.jobs.upsert(`run-purge:${runId}`, 'run-purge', { runId }, now + RUN_LOG_RETENTION_MS);
  }

  scheduleCheckpointPurge(runId: string, now: number): void {
    this.jobs.upsert(
      `run-checkpoints:${runId}`,
      'run-checkpoints-purge',
      { runId },
      now + RUN_CHECKPOINT_RETENTION_MS,
    );
  }

  /** The first keyed start arms it for when that key expires; a pending one is kept as it is. */
  scheduleIdempotencyPrune(now: number): void {
    this.jobs.enqueue(
      'run-idempotency-prune',
      'run-idempotency-prune',
      {},
      now + IDEMPOTENCY_KEY_TTL_MS + 60_000,
    );
  }

  /** A run that ended needs neither watchdog nor deadline. */
  clearLiveTimers(runId: string): void {
    this.stopWatchdog(runId);
    this.jobs.complete(`run-deadline:${runId}`);
  }

  /** The `run-deadline` job: ends the run if its deadline passed, else moves to the new one. */
  checkDeadline(job: Job, registry: RunRegistry, finish: FinishRun, now: number): void {
    const run = registry.get((job.payload as { runId: string }).runId);
    if (!run || isTerminalStatus(run.status)) {
      this.jobs.complete(job.id);
      return;
    }
    const due = this.deadlineOf(run);
    if (due > now) {
      this.jobs.upsert(job.id, job.kind, job.payload, due);
      return;
    }
    if (run.status === 'paused') {
      finish(run.id, {
        kind: 'error',
        status: 'timed_out',
        code: 'pause_timeout',
        message: `the run waited for input at node "${run.pausedNode}" longer than ${run.pauseTimeoutMs / 1000} s`,
      });
    } else {
      finish(run.id, {
        kind: 'error',
        status: 'timed_out',
        code: 'timeout',
        message: `the run was active longer than ${run.runTimeoutMs / 1000} s`,
      });
    }
    this.jobs.complete(job.id);
  }
}
