import { getConfig } from '../config';
import type { RunErrorCode } from '../contract/events';
import { openDb } from '../db/client';
import { type Checkpoint, type ExecutorDeps, type ExecutorEvent, execute } from '../graphs/executor';
import { END, type Graph } from '../graphs/graph-schema';
import type { State } from '../graphs/template';
import type { EventLog } from '../hub/event-log';
import type { Job, JobQueue } from '../hub/job-queue';
import { log } from '../lib/log';
import { providerFromConfig } from '../providers/from-config';
import { LlmError, type LlmProvider } from '../providers/llm-provider';
import { createToolRegistry } from '../tools/registry';
import { type HubRunStatus, type RunRecord, RunRegistry, TERMINAL_STATUSES } from './registry';
import { isTransientDbError, runTopic, syncRunRecordSafely } from './run-records';

/** A finished run's log and registry row are kept this long, then only Postgres has it. */
export const RUN_LOG_RETENTION_MS = 24 * 60 * 60_000;
/** A running run's watchdog: if nothing drives it (the hub restarted), this alarm resumes it. */
export const RUN_WATCHDOG_MS = 60_000;
/**
 * A `run-sync` that fails this many times with an error retrying cannot fix (anything but
 * Postgres being unreachable or briefly unable) is dropped and logged rather than retried forever.
 */
export const RUN_SYNC_MAX_ATTEMPTS = 10;
/**
 * What one run's steps may write to its log (kept 24 h in the hub's SQLite). Every
 * `node_completed` carries the whole state, so a loop over a large state would otherwise log
 * up to step limit × state limit; a step that would pass this fails the run with `node_failed`.
 */
export const MAX_RUN_LOG_BYTES = 8 * 1024 * 1024;

export const RUN_JOB_KINDS = ['run', 'run-deadline', 'run-sync', 'run-purge'] as const;

export interface RunLimits {
  perUser: number;
  perAccount: number;
}

export interface StartRunRequest {
  runId: string;
  accountId: string;
  userId: string;
  graphId: string;
  graphVersion: number;
  graph: Graph;
  input: Record<string, unknown>;
  limits: RunLimits;
  runTimeoutSeconds: number;
  pauseTimeoutSeconds: number;
}

export type LimitRefusal = {
  ok: false;
  reason: 'limit';
  scope: 'user' | 'account';
  limit: number;
  retryAfterSeconds: number;
};

export type StartRunResult =
  | { ok: true; status: HubRunStatus }
  | LimitRefusal
  | { ok: false; reason: 'exists'; status: HubRunStatus }
  /** A cancel for this id reached the hub before its start: it never runs. */
  | { ok: false; reason: 'cancelled' };

export type ResumeRunResult =
  | { ok: true; status: 'running' }
  | LimitRefusal
  | { ok: false; reason: 'not_paused'; status: HubRunStatus }
  | { ok: false; reason: 'unknown' };

export type CancelRunResult =
  | { ok: true; status: 'cancelled' }
  | { ok: false; reason: 'ended'; status: HubRunStatus }
  | { ok: false; reason: 'unknown' };

/** The hub's live view of a run, for the status endpoint and the stream. */
export interface RunSnapshot {
  status: HubRunStatus;
  version: number;
  state: State;
  next_node: string;
  steps: number;
  error_code: RunErrorCode | null;
  error_message: string | null;
  paused_node: string | null;
  paused_prompt: string | null;
  started_at: number;
  ended_at: number | null;
  active_ms: number;
  duration_ms: number | null;
  last_event_id: number;
}

/** What the run manager needs from its hub. */
export interface HubParts {
  ctx: DurableObjectState;
  env: Env;
  events: EventLog;
  jobs: JobQueue;
  broadcast(topic: string, frame: string): void;
  armAlarm(): Promise<void>;
}

type Ending =
  | { kind: 'completed'; state: State }
  | { kind: 'error'; status: 'failed' | 'cancelled' | 'timed_out'; code: RunErrorCode; message: string };

/** Thrown by a step of an execution that no longer owns its run (cancelled, timed out, replaced). */
class StaleExecution extends Error {}

/** Thrown by a step that would take the run's log past MAX_RUN_LOG_BYTES; nothing was written. */
class RunLogLimit extends Error {}

const utf8 = new TextEncoder();

interface Execution {
  controller: AbortController;
}

const noProvider: LlmProvider = {
  name: 'none',
  complete: () =>
    Promise.reject(new LlmError('bad_request', 'no LLM provider is configured (LLM_PROVIDER=none)')),
};

/**
 * Runs graphs inside the account hub. The registry and each run's checkpoint live in the hub's
 * SQLite; each executor step writes its events and the new checkpoint in one transaction before
 * broadcasting them, so after a restart the run continues from the last checkpoint and its log
 * holds every finished step exactly once. Every transition (start, pause, resume, end) is copied
 * to Postgres by a durable `run-sync` job.
 */
export class RunManager {
  private readonly registry: RunRegistry;
  private readonly executions = new Map<string, Execution>();

  constructor(private readonly hub: HubParts) {
    this.registry = new RunRegistry(hub.ctx.storage.sql);
  }

  static migrate(sql: SqlStorage): void {
    RunRegistry.migrate(sql);
  }

  /**
   * On a fresh instance nothing is executing, so every `running` run lost its executor with the
   * previous instance: its watchdog is made due now and the alarm resumes it from its checkpoint.
   */
  async recover(): Promise<void> {
    const now = Date.now();
    const orphans = this.registry.idsWithStatus('running');
    for (const id of orphans) this.hub.jobs.upsert(`run:${id}`, 'run', { runId: id }, now);
    if (orphans.length > 0) {
      log('info', 'resuming runs after a hub restart', { runs: orphans.length });
      await this.hub.armAlarm();
    }
  }

  // ── RPC entry points ───────────────────────────────────────────────────────────────────────

  async start(req: StartRunRequest): Promise<StartRunResult> {
    const now = Date.now();
    const topic = runTopic(req.runId);
    const outcome = this.hub.ctx.storage.transactionSync((): StartRunResult | { ok: true; frame: string } => {
      const existing = this.registry.get(req.runId);
      if (existing) return { ok: false, reason: 'exists', status: existing.status };
      if (this.registry.hasTombstone(req.runId)) return { ok: false, reason: 'cancelled' };
      const refusal = this.refuseOverLimit(req.userId, req.limits, now);
      if (refusal) return refusal;
      const run: RunRecord = {
        id: req.runId,
        accountId: req.accountId,
        userId: req.userId,
        graphId: req.graphId,
        graphVersion: req.graphVersion,
        graph: req.graph,
        status: 'running',
        checkpoint: { next: req.graph.entry, state: req.input },
        input: req.input,
        steps: 0,
        logBytes: 0,
        version: 1,
        startedAt: now,
        activeMs: 0,
        segmentStartedAt: now,
        pausedAt: null,
        pausedNode: null,
        pausedPrompt: null,
        endedAt: null,
        errorCode: null,
        errorMessage: null,
        runTimeoutMs: req.runTimeoutSeconds * 1000,
        pauseTimeoutMs: req.pauseTimeoutSeconds * 1000,
      };
      this.registry.insert(run);
      const appended = this.hub.events.append(
        topic,
        'run_started',
        { run_id: req.runId, graph_id: req.graphId, input: req.input },
        'run_started',
        now,
      );
      this.scheduleDeadline(run);
      this.hub.jobs.upsert(`run:${run.id}`, 'run', { runId: run.id }, now + RUN_WATCHDOG_MS);
      this.scheduleSync(run.id, now);
      return { ok: true, frame: appended.frame };
    });
    if (!outcome.ok) return outcome;
    if ('frame' in outcome) this.hub.broadcast(topic, outcome.frame);
    this.ensureExecuting(req.runId);
    await this.hub.armAlarm();
    return { ok: true, status: 'running' };
  }

  /** Continues a paused run with `input` stored under the paused node's output key. */
  async resume(runId: string, input: unknown, limits: RunLimits): Promise<ResumeRunResult> {
    const now = Date.now();
    const outcome = this.hub.ctx.storage.transactionSync(
      (): ResumeRunResult | { ok: true; frame: string } => {
        const run = this.registry.get(runId);
        if (!run) return { ok: false, reason: 'unknown' };
        // The check and the transition are one synchronous step: of two concurrent resumes, the
        // second sees `running` and gets a conflict.
        if (run.status !== 'paused') return { ok: false, reason: 'not_paused', status: run.status };
        const refusal = this.refuseOverLimit(run.userId, limits, now);
        if (refusal) return refusal;
        const checkpoint: Checkpoint = { ...run.checkpoint, resume_input: input ?? null };
        const updated = this.registry.update(runId, {
          status: 'running',
          checkpoint,
          segmentStartedAt: now,
          pausedAt: null,
          pausedNode: null,
          pausedPrompt: null,
        });
        const appended = this.hub.events.append(
          runTopic(runId),
          'run_resumed',
          { node_id: run.pausedNode ?? run.checkpoint.next },
          `s${run.steps}:resumed`,
          now,
        );
        this.scheduleDeadline(updated);
        this.hub.jobs.upsert(`run:${runId}`, 'run', { runId }, now + RUN_WATCHDOG_MS);
        this.scheduleSync(runId, now);
        return { ok: true, frame: appended.frame };
      },
    );
    if (!outcome.ok) return outcome;
    if ('frame' in outcome) this.hub.broadcast(runTopic(runId), outcome.frame);
    this.ensureExecuting(runId);
    await this.hub.armAlarm();
    return { ok: true, status: 'running' };
  }

  /**
   * Ends a running or paused run now and aborts its in-flight LLM or tool call. An id the hub
   * does not know gets a tombstone (kept as long as a finished run's log), so if its start is
   * still on its way it is refused: a run cancelled before it started never runs.
   */
  async cancel(runId: string): Promise<CancelRunResult> {
    const unknown = this.hub.ctx.storage.transactionSync(() => {
      if (this.registry.get(runId)) return false;
      const now = Date.now();
      this.registry.addTombstone(runId, now);
      this.hub.jobs.upsert(`run-purge:${runId}`, 'run-purge', { runId }, now + RUN_LOG_RETENTION_MS);
      return true;
    });
    if (unknown) {
      await this.hub.armAlarm();
      return { ok: false, reason: 'unknown' };
    }
    const run = this.registry.get(runId);
    if (!run) return { ok: false, reason: 'unknown' };
    if (TERMINAL_STATUSES.has(run.status)) return { ok: false, reason: 'ended', status: run.status };
    const ended = this.finish(runId, {
      kind: 'error',
      status: 'cancelled',
      code: 'cancelled',
      message: 'cancelled by a user',
    });
    await this.hub.armAlarm();
    if (!ended) {
      const now = this.registry.get(runId);
      return { ok: false, reason: 'ended', status: now?.status ?? 'cancelled' };
    }
    return { ok: true, status: 'cancelled' };
  }

  snapshot(runId: string): RunSnapshot | null {
    const run = this.registry.get(runId);
    if (!run) return null;
    const now = Date.now();
    return {
      status: run.status,
      version: run.version,
      state: run.checkpoint.state,
      next_node: run.checkpoint.next,
      steps: run.steps,
      error_code: run.errorCode,
      error_message: run.errorMessage,
      paused_node: run.pausedNode,
      paused_prompt: run.pausedPrompt,
      started_at: run.startedAt,
      ended_at: run.endedAt,
      active_ms: run.activeMs + (run.segmentStartedAt === null ? 0 : Math.max(0, now - run.segmentStartedAt)),
      duration_ms: run.endedAt === null ? null : run.endedAt - run.startedAt,
      last_event_id: this.hub.events.lastId(runTopic(runId)),
    };
  }

  // ── jobs ──────────────────────────────────────────────────────────────────────────────────

  async runJob(job: Job): Promise<void> {
    const { runId } = job.payload as { runId: string };
    const now = Date.now();
    switch (job.kind) {
      case 'run': {
        // The watchdog: (re)starts execution when nothing in this instance drives the run.
        const run = this.registry.get(runId);
        if (run?.status !== 'running') return this.hub.jobs.complete(job.id);
        this.ensureExecuting(runId);
        this.hub.jobs.upsert(job.id, 'run', job.payload, now + RUN_WATCHDOG_MS);
        return;
      }
      case 'run-deadline':
        return this.checkDeadline(job, now);
      case 'run-sync':
        return this.sync(job);
      case 'run-purge': {
        if (this.hub.jobs.get(`run-sync:${runId}`)) {
          // Postgres does not have the end yet: keep the hub's copy until it does.
          this.hub.jobs.upsert(job.id, job.kind, job.payload, now + 60_000);
          return;
        }
        this.hub.events.drop(runTopic(runId));
        this.registry.delete(runId);
        this.registry.deleteTombstone(runId);
        this.hub.jobs.complete(job.id);
        return;
      }
      default:
        this.hub.jobs.complete(job.id);
    }
  }

  private checkDeadline(job: Job, now: number): void {
    const run = this.registry.get((job.payload as { runId: string }).runId);
    if (!run || TERMINAL_STATUSES.has(run.status)) {
      this.hub.jobs.complete(job.id);
      return;
    }
    const due = this.deadlineOf(run);
    if (due > now) {
      this.hub.jobs.upsert(job.id, job.kind, job.payload, due);
      return;
    }
    if (run.status === 'paused') {
      this.finish(run.id, {
        kind: 'error',
        status: 'timed_out',
        code: 'pause_timeout',
        message: `the run waited for input at node "${run.pausedNode}" longer than ${run.pauseTimeoutMs / 1000} s`,
      });
    } else {
      this.finish(run.id, {
        kind: 'error',
        status: 'timed_out',
        code: 'timeout',
        message: `the run was active longer than ${run.runTimeoutMs / 1000} s`,
      });
    }
    this.hub.jobs.complete(job.id);
  }

  private async sync(job: Job): Promise<void> {
    const run = this.registry.get((job.payload as { runId: string }).runId);
    if (!run) return this.hub.jobs.complete(job.id);
    const { db, close } = openDb(getConfig(this.hub.env));
    try {
      // A value Postgres refuses (NUL in the state) is written cleaned, never retried as is.
      await syncRunRecordSafely(db, run);
    } catch (err) {
      // Postgres down: retried (with backoff) until it is back. Anything else fails the same
      // way every time: give up after a few attempts instead of retrying forever.
      if (isTransientDbError(err) || job.attempts + 1 < RUN_SYNC_MAX_ATTEMPTS) throw err;
      log('error', 'run record could not be copied to Postgres; giving up', {
        runId: run.id,
        version: run.version,
        attempts: job.attempts + 1,
        err,
      });
      if (this.registry.get(run.id)?.version === run.version) this.hub.jobs.complete(job.id);
      return;
    } finally {
      this.hub.ctx.waitUntil(close());
    }
    // A transition that happened meanwhile re-armed the job; leave it for the next pass.
    if (this.registry.get(run.id)?.version === run.version) this.hub.jobs.complete(job.id);
  }

  // ── execution ─────────────────────────────────────────────────────────────────────────────

  private ensureExecuting(runId: string): void {
    if (this.executions.has(runId)) return;
    const run = this.registry.get(runId);
    if (run?.status !== 'running') return;
    const execution: Execution = { controller: new AbortController() };
    this.executions.set(runId, execution);
    // Not tied to the request that started it: the hub stays alive while the run executes, and
    // if it does not (eviction, crash) the watchdog alarm resumes the run from its checkpoint.
    void this.drive(run, execution);
  }

  private executorDeps(): ExecutorDeps {
    const config = getConfig(this.hub.env);
    return {
      llm: providerFromConfig(config, this.hub.env) ?? noProvider,
      tools: createToolRegistry(),
      now: () => Date.now(),
      allowHosts: config.HTTP_GET_ALLOW_HOSTS,
    };
  }

  private async drive(run: RunRecord, execution: Execution): Promise<void> {
    const owns = () => this.executions.get(run.id) === execution;
    try {
      const result = await execute({
        graph: run.graph,
        checkpoint: run.checkpoint,
        // Steps count across restarts and resumes: the registry's count is the run's total.
        stepsBefore: run.steps,
        signal: execution.controller.signal,
        deps: this.executorDeps(),
        onStep: (events, checkpoint) => this.step(run.id, execution, events, checkpoint),
      });
      if (!owns()) return;
      if (result.status === 'completed') this.finish(run.id, { kind: 'completed', state: result.state });
      else if (result.status === 'failed')
        this.finish(run.id, {
          kind: 'error',
          status: 'failed',
          code: 'node_failed',
          message: result.message,
        });
      else if (result.status === 'cancelled')
        this.finish(run.id, { kind: 'error', status: 'cancelled', code: 'cancelled', message: 'cancelled' });
    } catch (err) {
      if (err instanceof StaleExecution || !owns()) return;
      if (err instanceof RunLogLimit) {
        this.finish(run.id, { kind: 'error', status: 'failed', code: 'node_failed', message: err.message });
        return;
      }
      log('error', 'run execution failed', { runId: run.id, err });
      try {
        this.finish(run.id, {
          kind: 'error',
          status: 'failed',
          code: 'internal',
          message: `internal error: ${err instanceof Error ? err.message : String(err)}`,
        });
      } catch (finishErr) {
        // The hub itself is failing; the watchdog resumes the run from its checkpoint.
        log('error', 'could not record a run failure', { runId: run.id, err: finishErr });
      }
    } finally {
      if (owns()) this.executions.delete(run.id);
      await this.hub.armAlarm().catch(() => undefined);
    }
  }

  /** One executor step: events and checkpoint in one transaction, then broadcast. */
  private async step(
    runId: string,
    execution: Execution,
    events: ExecutorEvent[],
    checkpoint: Checkpoint,
  ): Promise<void> {
    const now = Date.now();
    const topic = runTopic(runId);
    let paused = false;
    const frames = this.hub.ctx.storage.transactionSync(() => {
      const run = this.registry.get(runId);
      if (run?.status !== 'running' || this.executions.get(runId) !== execution) throw new StaleExecution();
      const out: string[] = [];
      const step = run.steps;
      let logBytes = run.logBytes;
      const append = (key: string, type: string, data: unknown) => {
        const appended = this.hub.events.append(topic, type, data, `s${step}:${key}`, now);
        if (appended.duplicate) return;
        out.push(appended.frame);
        logBytes += utf8.encode(appended.frame).byteLength;
        if (logBytes > MAX_RUN_LOG_BYTES) {
          // Thrown inside the transaction, so this step's events roll back with it.
          const { node_id, from } = data as { node_id?: string; from?: string };
          const node = node_id ?? from;
          throw new RunLogLimit(
            `the run's event log would pass its limit of ${MAX_RUN_LOG_BYTES} bytes (${MAX_RUN_LOG_BYTES / 1024 / 1024} MiB, the run log limit) at node "${node}": every completed node logs the whole state, so keep the state smaller or the loop shorter`,
          );
        }
      };
      let completed = false;
      let pause: { node_id: string; prompt: string } | undefined;
      for (const e of events) {
        switch (e.type) {
          case 'node_started':
            append('started', 'node_started', { node_id: e.node_id });
            break;
          case 'graph_paused':
            pause = { node_id: e.node_id, prompt: e.prompt };
            append('paused', 'graph_paused', pause);
            break;
          case 'node_completed':
            completed = true;
            append('completed', 'node_completed', {
              node_id: e.node_id,
              state: e.state,
              duration_ms: e.duration_ms,
              ...(e.tool_error === undefined ? {} : { tool_error: e.tool_error }),
            });
            break;
          case 'edge_traversed':
            append('edge', 'edge_traversed', {
              from: e.from,
              to: e.to,
              ...(e.condition_result === undefined ? {} : { condition_result: e.condition_result }),
            });
            break;
        }
      }
      if (pause) {
        const updated = this.registry.update(runId, {
          checkpoint,
          logBytes,
          status: 'paused',
          activeMs: run.activeMs + Math.max(0, now - (run.segmentStartedAt ?? now)),
          segmentStartedAt: null,
          pausedAt: now,
          pausedNode: pause.node_id,
          pausedPrompt: pause.prompt,
        });
        this.hub.jobs.complete(`run:${runId}`);
        this.scheduleDeadline(updated);
        this.scheduleSync(runId, now);
        // The pause ends this execution; a resume starts a new one.
        this.executions.delete(runId);
        paused = true;
      } else {
        this.registry.update(
          runId,
          { checkpoint, logBytes, ...(completed ? { steps: step + 1 } : {}) },
          { bump: false },
        );
      }
      return out;
    });
    for (const frame of frames) this.hub.broadcast(topic, frame);
    if (paused) await this.hub.armAlarm();
  }

  /**
   * The one way a run ends: status, terminal event and job changes in one transaction, so the
   * terminal event is logged exactly once whoever gets here first (executor, cancel, deadline).
   */
  private finish(runId: string, ending: Ending): boolean {
    const now = Date.now();
    const topic = runTopic(runId);
    const appended = this.hub.ctx.storage.transactionSync(() => {
      const run = this.registry.get(runId);
      if (!run || TERMINAL_STATUSES.has(run.status)) return undefined;
      const activeMs =
        run.activeMs + (run.segmentStartedAt === null ? 0 : Math.max(0, now - run.segmentStartedAt));
      const common = {
        endedAt: now,
        activeMs,
        segmentStartedAt: null,
        pausedAt: null,
        pausedNode: null,
        pausedPrompt: null,
      };
      let result: ReturnType<EventLog['append']>;
      if (ending.kind === 'completed') {
        this.registry.update(runId, {
          ...common,
          status: 'completed',
          checkpoint: { next: END, state: ending.state },
        });
        result = this.hub.events.append(
          topic,
          'graph_completed',
          { final_state: ending.state, duration_ms: now - run.startedAt },
          'terminal',
          now,
        );
      } else {
        this.registry.update(runId, {
          ...common,
          status: ending.status,
          errorCode: ending.code,
          errorMessage: ending.message,
        });
        result = this.hub.events.append(
          topic,
          'error',
          { code: ending.code, message: ending.message },
          'terminal',
          now,
        );
      }
      this.hub.jobs.complete(`run:${runId}`);
      this.hub.jobs.complete(`run-deadline:${runId}`);
      this.scheduleSync(runId, now);
      this.hub.jobs.upsert(`run-purge:${runId}`, 'run-purge', { runId }, now + RUN_LOG_RETENTION_MS);
      return result;
    });
    if (!appended) return false;
    if (!appended.duplicate) this.hub.broadcast(topic, appended.frame);
    const execution = this.executions.get(runId);
    if (execution) {
      this.executions.delete(runId);
      execution.controller.abort(new Error(`run ${ending.kind === 'completed' ? 'completed' : ending.code}`));
    }
    return true;
  }

  // ── helpers ───────────────────────────────────────────────────────────────────────────────

  private refuseOverLimit(userId: string, limits: RunLimits, now: number): LimitRefusal | undefined {
    const counts = this.registry.activeCounts(userId);
    const scope =
      counts.user >= limits.perUser ? 'user' : counts.account >= limits.perAccount ? 'account' : undefined;
    if (!scope) return undefined;
    // A hint, not a promise: the soonest a blocking run must end (its active-time deadline),
    // capped so clients retry reasonably soon since runs usually end well before their timeout.
    const soonest = this.registry.soonestDeadline(scope === 'user' ? userId : undefined) ?? now;
    return {
      ok: false,
      reason: 'limit',
      scope,
      limit: scope === 'user' ? limits.perUser : limits.perAccount,
      retryAfterSeconds: Math.min(30, Math.max(1, Math.ceil((soonest - now) / 1000))),
    };
  }

  private deadlineOf(run: RunRecord): number {
    if (run.status === 'paused') return (run.pausedAt ?? Date.now()) + run.pauseTimeoutMs;
    return (run.segmentStartedAt ?? Date.now()) + run.runTimeoutMs - run.activeMs;
  }

  private scheduleDeadline(run: RunRecord): void {
    this.hub.jobs.upsert(`run-deadline:${run.id}`, 'run-deadline', { runId: run.id }, this.deadlineOf(run));
  }

  private scheduleSync(runId: string, now: number): void {
    this.hub.jobs.upsert(`run-sync:${runId}`, 'run-sync', { runId }, now);
  }
}
