import { isTerminalStatus } from '../contract/statuses';
import type { Checkpoint } from '../graphs/executor';
import { END } from '../graphs/graph-schema';
import type { AppendResult } from '../hub/event-log';
import type { Hub } from '../hub/hub-module';
import { refuseOverLimit, refuseStart } from './admission';
import type { RunRecord, RunRegistry } from './registry';
import type { RunTimers } from './run-timers';
import {
  type CancelRunResult,
  type Ending,
  type ResumeRunResult,
  type RunLimits,
  type RunSnapshot,
  runTopic,
  type StartRunRequest,
  type StartRunResult,
} from './run-types';

/** What the lifecycle needs of the execution loop (run-execution.ts). */
export interface Driver {
  ensureExecuting(runId: string): void;
  abort(runId: string, reason: string): void;
}

/**
 * A run's transitions: start, pause (by the executor), resume, cancel and the one way a run
 * ends. Each transition is one SQLite transaction (registry, log event, timers, the Postgres copy
 * job), then its frame is broadcast; every transition bumps the version Postgres is ordered by.
 */
export class RunLifecycle {
  constructor(
    private readonly hub: Hub,
    private readonly registry: RunRegistry,
    private readonly timers: RunTimers,
    private readonly driver: Driver,
  ) {}

  async start(req: StartRunRequest): Promise<StartRunResult> {
    const now = Date.now();
    const topic = runTopic(req.runId);
    const outcome = this.hub.storage.transactionSync((): StartRunResult | { ok: true; frame: string } => {
      const existing = this.registry.get(req.runId);
      if (existing) return { ok: false, reason: 'exists', status: existing.status };
      if (this.registry.hasTombstone(req.runId)) return { ok: false, reason: 'cancelled' };
      const refusal = refuseStart(this.registry, req.userId, req.limits, now);
      if (refusal) return refusal;
      const run: RunRecord = {
        id: req.runId,
        accountId: req.accountId,
        userId: req.userId,
        graphId: req.graphId,
        graphVersion: req.graphVersion,
        graph: req.graph,
        status: 'running',
        checkpoint: { next: req.startAt ?? req.graph.entry, state: req.input },
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
      const appended = this.hub.log(
        {
          topic,
          type: 'run_started',
          data: {
            run_id: req.runId,
            graph_id: req.graphId,
            input: req.input,
            ...(req.parentRunId === undefined ? {} : { parent_run_id: req.parentRunId }),
            ...(req.startAt === undefined ? {} : { from_node: req.startAt }),
          },
          key: 'run_started',
        },
        now,
      );
      this.timers.scheduleDeadline(run);
      this.timers.armWatchdog(run.id, now);
      this.timers.scheduleSync(run.id, now);
      if (req.idempotencyKey) this.timers.scheduleIdempotencyPrune(now);
      return { ok: true, frame: appended.frame };
    });
    if (!outcome.ok) return outcome;
    if ('frame' in outcome) this.hub.broadcast(topic, outcome.frame);
    this.hub.count('runs_started');
    this.driver.ensureExecuting(req.runId);
    await this.hub.armAlarm();
    return { ok: true, status: 'running' };
  }

  /** Continues a paused run with `input` stored under the paused node's output key. */
  async resume(runId: string, input: unknown, limits: RunLimits): Promise<ResumeRunResult> {
    const now = Date.now();
    const outcome = this.hub.storage.transactionSync((): ResumeRunResult | { ok: true; frame: string } => {
      const run = this.registry.get(runId);
      if (!run) return { ok: false, reason: 'unknown' };
      // The check and the transition are one synchronous step: of two concurrent resumes, the
      // second sees `running` and gets a conflict.
      if (run.status !== 'paused') return { ok: false, reason: 'not_paused', status: run.status };
      const refusal = refuseOverLimit(this.registry, run.userId, limits, now);
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
      const appended = this.hub.log(
        {
          topic: runTopic(runId),
          type: 'run_resumed',
          data: { node_id: run.pausedNode ?? run.checkpoint.next },
          key: `s${run.steps}:resumed`,
        },
        now,
      );
      this.timers.scheduleDeadline(updated);
      this.timers.armWatchdog(runId, now);
      this.timers.scheduleSync(runId, now);
      return { ok: true, frame: appended.frame };
    });
    if (!outcome.ok) return outcome;
    if ('frame' in outcome) this.hub.broadcast(runTopic(runId), outcome.frame);
    this.driver.ensureExecuting(runId);
    await this.hub.armAlarm();
    return { ok: true, status: 'running' };
  }

  /**
   * Ends a running or paused run now and aborts its in-flight LLM or tool call. An id the hub
   * does not know gets a tombstone (kept as long as a finished run's log), so if its start is
   * still on its way it is refused: a run cancelled before it started never runs.
   */
  async cancel(runId: string): Promise<CancelRunResult> {
    const unknown = this.hub.storage.transactionSync(() => {
      if (this.registry.get(runId)) return false;
      const now = Date.now();
      this.registry.addTombstone(runId, now);
      this.timers.schedulePurge(runId, now);
      return true;
    });
    if (unknown) {
      await this.hub.armAlarm();
      return { ok: false, reason: 'unknown' };
    }
    const run = this.registry.get(runId);
    if (!run) return { ok: false, reason: 'unknown' };
    if (isTerminalStatus(run.status)) return { ok: false, reason: 'ended', status: run.status };
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

  /**
   * The one way a run ends: status, terminal event and job changes in one transaction, so the
   * terminal event is logged exactly once whoever gets here first (executor, cancel, deadline).
   */
  finish(runId: string, ending: Ending): boolean {
    const now = Date.now();
    const topic = runTopic(runId);
    const appended = this.hub.storage.transactionSync((): AppendResult | undefined => {
      const run = this.registry.get(runId);
      if (!run || isTerminalStatus(run.status)) return undefined;
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
      let result: AppendResult;
      if (ending.kind === 'completed') {
        this.registry.update(runId, {
          ...common,
          status: 'completed',
          checkpoint: { next: END, state: ending.state },
        });
        result = this.hub.log(
          {
            topic,
            type: 'graph_completed',
            data: { final_state: ending.state, duration_ms: now - run.startedAt },
            key: 'terminal',
          },
          now,
        );
      } else {
        this.registry.update(runId, {
          ...common,
          status: ending.status,
          errorCode: ending.code,
          errorMessage: ending.message,
        });
        result = this.hub.log(
          { topic, type: 'error', data: { code: ending.code, message: ending.message }, key: 'terminal' },
          now,
        );
      }
      this.timers.clearLiveTimers(runId);
      this.timers.scheduleSync(runId, now);
      this.timers.schedulePurge(runId, now);
      this.timers.scheduleCheckpointPurge(runId, now);
      return result;
    });
    if (!appended) return false;
    if (!appended.duplicate) this.hub.broadcast(topic, appended.frame);
    this.driver.abort(runId, `run ${ending.kind === 'completed' ? 'completed' : ending.code}`);
    return true;
  }

  /** The hub's live view of a run, for the status endpoint and the stream. */
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
      retry:
        run.status === 'running' && run.checkpoint.retry_at !== undefined
          ? {
              node_id: run.checkpoint.next,
              attempt: run.checkpoint.attempt ?? 1,
              next_attempt_at: run.checkpoint.retry_at,
            }
          : null,
    };
  }
}
