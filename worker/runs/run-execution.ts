import { getConfig } from '../config';
import { type Checkpoint, type ExecutorDeps, type ExecutorEvent, execute } from '../graphs/executor';
import { FrameTooLargeError } from '../hub/event-log';
import type { Hub } from '../hub/hub-module';
import { log } from '../lib/log';
import { providerFromConfig } from '../providers/from-config';
import { LlmError, type LlmProvider } from '../providers/llm-provider';
import { createToolRegistry } from '../tools/registry';
import type { NodeDeltas } from './node-deltas';
import type { RunRecord, RunRegistry } from './registry';
import type { RunCheckpoints } from './run-checkpoints';
import type { RunTimers } from './run-timers';
import { type FinishRun, MAX_RUN_LOG_BYTES, runTopic } from './run-types';

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
 * The execution loop of the runs this hub instance drives. Each executor step writes its events
 * and the new checkpoint in one transaction before broadcasting them, so after a restart the run
 * continues from the last checkpoint and its log holds every finished step exactly once.
 */
export class RunExecution {
  private readonly executions = new Map<string, Execution>();

  constructor(
    private readonly hub: Hub,
    private readonly registry: RunRegistry,
    private readonly checkpoints: RunCheckpoints,
    private readonly timers: RunTimers,
    private readonly deltas: NodeDeltas,
    private readonly finish: FinishRun,
  ) {}

  /**
   * Starts driving a running run unless this instance already does, or the run is waiting
   * between two attempts of a node (its watchdog job fires at the next attempt's time).
   */
  ensureExecuting(runId: string, now = Date.now()): void {
    if (this.executions.has(runId)) return;
    const run = this.registry.get(runId);
    if (run?.status !== 'running') return;
    if ((run.checkpoint.retry_at ?? 0) > now) return;
    const execution: Execution = { controller: new AbortController() };
    this.executions.set(runId, execution);
    // Not tied to the request that started it: the hub stays alive while the run executes, and
    // if it does not (eviction, crash) the watchdog alarm resumes the run from its checkpoint.
    void this.drive(run, execution);
  }

  /** Stops driving a run (it ended): its in-flight LLM or tool call is aborted. */
  abort(runId: string, reason: string): void {
    const execution = this.executions.get(runId);
    if (!execution) return;
    this.executions.delete(runId);
    this.deltas.end(runId);
    execution.controller.abort(new Error(reason));
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
      const config = getConfig(this.hub.env);
      const result = await execute({
        maxStateBytes: config.RUN_STATE_MAX_BYTES,
        maxTemplateBytes: config.TEMPLATE_MAX_BYTES,
        graph: run.graph,
        checkpoint: run.checkpoint,
        // Steps count across restarts and resumes: the registry's count is the run's total.
        stepsBefore: run.steps,
        signal: execution.controller.signal,
        deps: this.executorDeps(),
        onStep: (events, checkpoint) => this.step(run.id, execution, events, checkpoint),
        onDelta: (nodeId, text) => {
          if (owns()) this.deltas.push(run.id, nodeId, text);
        },
      });
      if (!owns()) return;
      // Waiting for a node's next attempt: the step that logged `node_retrying` handed the run to
      // its watchdog job, due at that time.
      if (result.status === 'retrying') return;
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
      if (err instanceof RunLogLimit || err instanceof FrameTooLargeError) {
        this.finish(run.id, { kind: 'error', status: 'failed', code: 'node_failed', message: err.message });
        return;
      }
      // The cause (a SQLite or runtime error) stays in the log; the run's event names a reference.
      const reference = crypto.randomUUID();
      log('error', 'run execution failed', { runId: run.id, reference, err });
      try {
        this.finish(run.id, {
          kind: 'error',
          status: 'failed',
          code: 'internal',
          message: `the run stopped on an internal error; the log has it under reference ${reference}`,
        });
      } catch (finishErr) {
        // The hub itself is failing; the watchdog resumes the run from its checkpoint.
        log('error', 'could not record a run failure', { runId: run.id, err: finishErr });
      }
    } finally {
      if (owns()) {
        this.executions.delete(run.id);
        this.deltas.end(run.id);
      }
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
    let waiting = false;
    let startedNode: string | undefined;
    const frames = this.hub.storage.transactionSync(() => {
      const run = this.registry.get(runId);
      if (run?.status !== 'running' || this.executions.get(runId) !== execution) throw new StaleExecution();
      const out: string[] = [];
      const step = run.steps;
      let logBytes = run.logBytes;
      const append = (key: string, type: string, data: unknown) => {
        const appended = this.hub.log({ topic, type, data, key: `s${step}:${key}` }, now);
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
      let retryAt: number | undefined;
      for (const e of events) {
        switch (e.type) {
          case 'node_started':
            // Attempts after the first are logged too (each with its own key); a restart that
            // re-runs the same attempt logs nothing twice.
            if (e.attempt === undefined) append('started', 'node_started', { node_id: e.node_id });
            else append(`started:a${e.attempt}`, 'node_started', { node_id: e.node_id, attempt: e.attempt });
            // The state before the node ran, for a rerun from here (the latest time it started).
            if (e.attempt === undefined) this.checkpoints.save(runId, e.node_id, step, checkpoint.state, now);
            startedNode = e.node_id;
            break;
          case 'node_retrying':
            retryAt = e.next_attempt_at;
            append(`retrying:a${e.attempt}`, 'node_retrying', {
              node_id: e.node_id,
              attempt: e.attempt,
              max_attempts: e.max_attempts,
              error: e.error,
              next_attempt_at: new Date(e.next_attempt_at).toISOString(),
            });
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
              ...(e.usage === undefined ? {} : { usage: e.usage }),
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
        this.timers.stopWatchdog(runId);
        this.timers.scheduleDeadline(updated);
        this.timers.scheduleSync(runId, now);
        // The pause ends this execution; a resume starts a new one.
        this.executions.delete(runId);
        paused = true;
      } else if (retryAt !== undefined) {
        // The wait is the run's watchdog job, moved to the next attempt: nothing runs until then
        // and the hub may sleep. The run stays `running` (its active-time deadline keeps counting).
        this.registry.update(runId, { checkpoint, logBytes }, { bump: false });
        this.timers.armWatchdog(runId, retryAt, 0);
        this.executions.delete(runId);
        waiting = true;
      } else {
        this.registry.update(
          runId,
          { checkpoint, logBytes, ...(completed ? { steps: step + 1 } : {}) },
          { bump: false },
        );
      }
      return out;
    });
    // The node's streamed text starts afresh with each attempt and is forgotten when it ends; it
    // never outlives the events that close it.
    if (startedNode !== undefined) this.deltas.begin(runId, startedNode);
    else this.deltas.end(runId);
    for (const frame of frames) this.hub.broadcast(topic, frame);
    for (const e of events) {
      if (e.type !== 'node_completed') continue;
      this.hub.count('nodes_executed');
      if (e.usage) {
        this.hub.count('llm_prompt_tokens', e.usage.prompt_tokens);
        this.hub.count('llm_completion_tokens', e.usage.completion_tokens);
      }
    }
    if (paused || waiting) await this.hub.armAlarm();
  }
}
