import type { Hub, HubModule } from '../hub/hub-module';
import type { Job } from '../hub/job-queue';
import { log } from '../lib/log';
import { createRunTables, RunRegistry } from './registry';
import { RunExecution } from './run-execution';
import { RunLifecycle } from './run-lifecycle';
import { purgeRunJob, syncRunJob } from './run-sync';
import { RunTimers } from './run-timers';
import type { FinishRun } from './run-types';

/** The runs module and the calls the hub offers for it over RPC. */
export interface RunsModule extends HubModule {
  readonly lifecycle: RunLifecycle;
}

/**
 * Graph runs inside the account hub. The registry and each run's checkpoint live in the hub's
 * SQLite; admission (admission.ts), transitions (run-lifecycle.ts), the execution loop
 * (run-execution.ts), timers (run-timers.ts) and the Postgres copy (run-sync.ts) are its parts.
 */
export function runsModule(hub: Hub): RunsModule {
  const registry = new RunRegistry(hub.sql);
  const timers = new RunTimers(hub.jobs);
  // The lifecycle starts execution, and the execution loop ends runs through the lifecycle:
  // each reaches the other through a callback (called only after both exist).
  const lifecycle = new RunLifecycle(hub, registry, timers, {
    ensureExecuting: (runId) => execution.ensureExecuting(runId),
    abort: (runId, reason) => execution.abort(runId, reason),
  });
  const finish: FinishRun = (runId, ending) => lifecycle.finish(runId, ending);
  const execution = new RunExecution(hub, registry, timers, finish);

  /** The watchdog: (re)starts execution when nothing in this instance drives the run. */
  const watchdog = (job: Job) => {
    const { runId } = job.payload as { runId: string };
    if (registry.get(runId)?.status !== 'running') return hub.jobs.complete(job.id);
    execution.ensureExecuting(runId);
    timers.armWatchdog(runId, Date.now());
  };

  return {
    name: 'runs',
    migrations: [createRunTables],
    lifecycle,
    /**
     * On a fresh instance nothing is executing, so every `running` run lost its executor with the
     * previous instance: its watchdog is made due now and the alarm resumes it from its checkpoint.
     */
    async recover() {
      const now = Date.now();
      const orphans = registry.idsWithStatus('running');
      for (const id of orphans) timers.armWatchdog(id, now, 0);
      if (orphans.length > 0) {
        log('info', 'resuming runs after a hub restart', { runs: orphans.length });
        await hub.armAlarm();
      }
    },
    jobs: {
      run: { run: watchdog },
      'run-deadline': { run: (job) => timers.checkDeadline(job, registry, finish, Date.now()) },
      'run-sync': { run: (job) => syncRunJob(hub, registry, job) },
      'run-purge': { run: (job) => purgeRunJob(hub, registry, job) },
    },
  };
}
