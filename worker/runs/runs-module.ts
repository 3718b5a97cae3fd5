import type { Hub, HubModule } from '../hub/hub-module';
import type { Job } from '../hub/job-queue';
import { log } from '../lib/log';
import { sseFrame } from '../lib/sse-frame';
import { NodeDeltas } from './node-deltas';
import { createRunTables, RunRegistry } from './registry';
import { createCheckpointTable, RunCheckpoints } from './run-checkpoints';
import { RunExecution } from './run-execution';
import { RunLifecycle } from './run-lifecycle';
import { pruneIdempotencyJob, purgeCheckpointsJob } from './run-retention';
import { purgeRunJob, syncRunJob } from './run-sync';
import { RunTimers } from './run-timers';
import {
  type FinishRun,
  type RunCheckpointResult,
  type RunCheckpointView,
  runIdOfTopic,
  runTopic,
} from './run-types';

/** The runs module and the calls the hub offers for it over RPC. */
export interface RunsModule extends HubModule {
  readonly lifecycle: RunLifecycle;
  /** The state a run had before `nodeId` ran (the last time it did), while the hub keeps it. */
  checkpoint(runId: string, nodeId: string): RunCheckpointResult;
  /** Every node the run reached, with the state it started from. */
  checkpoints(runId: string): RunCheckpointView[];
}

/**
 * Graph runs inside the account hub. The registry and each run's checkpoint live in the hub's
 * SQLite; admission (admission.ts), transitions (run-lifecycle.ts), the execution loop
 * (run-execution.ts), timers (run-timers.ts), the per-node checkpoints (run-checkpoints.ts), the
 * streamed text of llm nodes (node-deltas.ts) and the Postgres copy (run-sync.ts) are its parts.
 */
export function runsModule(hub: Hub): RunsModule {
  const registry = new RunRegistry(hub.sql);
  const checkpoints = new RunCheckpoints(hub.sql);
  const timers = new RunTimers(hub.jobs);
  // Ephemeral frames: sent to the run's live subscribers, never logged.
  const deltas = new NodeDeltas((runId, delta) =>
    hub.broadcast(runTopic(runId), sseFrame('node_delta', delta)),
  );
  // The lifecycle starts execution, and the execution loop ends runs through the lifecycle:
  // each reaches the other through a callback (called only after both exist).
  const lifecycle = new RunLifecycle(hub, registry, timers, {
    ensureExecuting: (runId) => execution.ensureExecuting(runId),
    abort: (runId, reason) => execution.abort(runId, reason),
  });
  const finish: FinishRun = (runId, ending) => lifecycle.finish(runId, ending);
  const execution = new RunExecution(hub, registry, checkpoints, timers, deltas, finish);

  /**
   * The watchdog: (re)starts execution when nothing in this instance drives the run. While a
   * node waits between attempts, this job is due at the next attempt; fired early (after a
   * restart), it moves itself back there.
   */
  const watchdog = (job: Job) => {
    const { runId } = job.payload as { runId: string };
    const run = registry.get(runId);
    if (run?.status !== 'running') return hub.jobs.complete(job.id);
    const now = Date.now();
    const retryAt = run.checkpoint.retry_at;
    if (retryAt !== undefined && retryAt > now) return timers.armWatchdog(runId, retryAt, 0);
    execution.ensureExecuting(runId, now);
    timers.armWatchdog(runId, now);
  };

  return {
    name: 'runs',
    migrations: [createRunTables, createCheckpointTable],
    lifecycle,
    checkpoint(runId, nodeId) {
      const found = checkpoints.get(runId, nodeId);
      return found ? { ok: true, state: found.state } : { ok: false };
    },
    checkpoints(runId) {
      return checkpoints
        .list(runId)
        .map((c) => ({ node_id: c.nodeId, step: c.step, state: c.state, at: c.at }));
    },
    /**
     * On a fresh instance nothing is executing, so every `running` run lost its executor with the
     * previous instance: its watchdog is made due now (or at its next attempt, for a node waiting
     * between attempts) and the alarm resumes it from its checkpoint.
     */
    async recover() {
      const now = Date.now();
      const orphans = registry.idsWithStatus('running');
      for (const id of orphans) {
        const retryAt = registry.get(id)?.checkpoint.retry_at;
        timers.armWatchdog(id, Math.max(now, retryAt ?? now), 0);
      }
      if (orphans.length > 0) {
        log('info', 'resuming runs after a hub restart', { runs: orphans.length });
        await hub.armAlarm();
      }
    },
    /** A client joining a run's stream mid-node first gets the node's text so far. */
    onSubscribe(sub, send) {
      const runId = runIdOfTopic(sub.topic);
      if (runId === null) return;
      const sofar = deltas.sofar(runId);
      if (sofar) send(sseFrame('node_delta', sofar));
    },
    jobs: {
      run: { run: watchdog },
      'run-deadline': { run: (job) => timers.checkDeadline(job, registry, finish, Date.now()) },
      'run-sync': { run: (job) => syncRunJob(hub, registry, job) },
      'run-purge': { run: (job) => purgeRunJob(hub, registry, job) },
      'run-checkpoints-purge': { run: (job) => purgeCheckpointsJob(hub, checkpoints, job) },
      'run-idempotency-prune': { run: (job) => pruneIdempotencyJob(hub, job) },
    },
  };
}
