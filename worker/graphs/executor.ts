import type { LlmUsage } from '../contract/events';
import { cleanJson, cleanText, jsonBytes, jsonDepth, utf8Bytes } from '../lib/json-safety';
import { log } from '../lib/log';
import { LlmError, type LlmProvider, raceAbort } from '../providers/llm-provider';
import type { ToolRegistry } from '../tools/registry';
import { ToolError } from '../tools/tool';
import { chooseNext, chooseOnToolError, type EdgeChoice } from './conditions';
import { type Edge, END, type Graph, type GraphNode, type HumanInputNode } from './graph-schema';
import { classifyFailure, type FailureKind, retryDelayMs, shouldRetry } from './retry-policy';
import { type RenderLimits, renderTemplate, renderValue, type State, TemplateLimitError } from './template';

/**
 * Runs a validated graph from a checkpoint. Pure apart from the injected deps: no storage, no
 * timers, no clock except `now()`. The caller (the account hub) persists what `onStep` hands it and
 * can always restart from the last checkpoint it stored.
 */

export type { State } from './template';

export type ExecutorEvent =
  /** `attempt` from the second attempt on (a node with a retry policy). */
  | { type: 'node_started'; node_id: string; attempt?: number }
  | {
      type: 'node_completed';
      node_id: string;
      state: State;
      duration_ms: number;
      /** Set when a failed tool was routed by a `tool_error` branch instead of failing the run. */
      tool_error?: string;
      /** On `llm` nodes: the provider's count, or an estimate when it gave none. */
      usage?: LlmUsage;
    }
  | { type: 'edge_traversed'; from: string; to: string; condition_result?: boolean }
  | { type: 'graph_paused'; node_id: string; prompt: string }
  /** Attempt `attempt` of the node failed; the next one is due at `next_attempt_at` (epoch ms). */
  | {
      type: 'node_retrying';
      node_id: string;
      attempt: number;
      max_attempts: number;
      error: string;
      next_attempt_at: number;
    };

export interface Checkpoint {
  /** The node to run next, or `__end__`. */
  next: string;
  state: State;
  /** Present (not undefined) when continuing a paused human_input node; JSON null is a valid input. */
  resume_input?: unknown;
  /** Attempts of `next` that already failed (a node with a retry policy); absent means none. */
  attempt?: number;
  /** While waiting between attempts: when the next one is due (epoch ms). The caller waits, not the executor. */
  retry_at?: number;
}

export type ExecutionResult =
  | { status: 'completed'; state: State }
  | { status: 'paused'; node_id: string; prompt: string; checkpoint: Checkpoint }
  | { status: 'failed'; node_id: string; code: 'node_failed'; message: string; checkpoint: Checkpoint }
  | { status: 'cancelled'; checkpoint: Checkpoint }
  /**
   * An attempt failed and the node's retry policy asks for another at `next_attempt_at`: the caller
   * schedules it and calls `execute` again with `checkpoint` then. The executor never sleeps.
   */
  | { status: 'retrying'; node_id: string; attempt: number; next_attempt_at: number; checkpoint: Checkpoint };

export interface ExecutorDeps {
  llm: LlmProvider;
  tools: ToolRegistry;
  now: () => number;
  /** Handed to tools; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Hosts `http_get` may reach; empty means none. */
  allowHosts?: readonly string[];
}

export interface ExecuteOptions {
  graph: Graph;
  checkpoint: Checkpoint;
  /** Abort on cancel or run timeout: the in-flight LLM or tool call is aborted too. */
  signal: AbortSignal;
  deps: ExecutorDeps;
  /**
   * Awaited before a node runs (`[node_started]`, or `[node_started, graph_paused]` when pausing)
   * and after it finishes (`[node_completed, edge_traversed]` with the new checkpoint), so events and
   * checkpoint can be written in one transaction. If it throws, execute rejects with that error.
   */
  onStep: (events: ExecutorEvent[], checkpoint: Checkpoint) => Promise<void> | void;
  /**
   * Text an `llm` node with `stream: true` produced, as it arrives (never persisted by the
   * executor). A node attempt's text starts with its `node_started` step.
   */
  onDelta?: (nodeId: string, text: string) => void;
  /**
   * Nodes a run may execute in total, across every call (restarts and resumes included), before
   * it fails as a runaway loop.
   */
  maxSteps?: number;
  /** Steps the run already took before this call (the caller persists the count). */
  stepsBefore?: number;
  /** The largest state, as UTF-8 JSON, a node may leave; a node that would exceed it fails the run. */
  maxStateBytes?: number;
  /** The largest rendered template (a prompt, a string of `set` or `args`), in UTF-8 bytes. */
  maxTemplateBytes?: number;
}

export const DEFAULT_MAX_STEPS = 1000;
/**
 * Every `node_completed` event carries the whole state, so this bounds each logged event (well
 * under the ~1 MiB a frame may be between the hub and the Worker, and SQLite's 2 MB value limit).
 */
export const DEFAULT_MAX_STATE_BYTES = 256 * 1024;
/** TEMPLATE_MAX_BYTES's default. */
export const DEFAULT_MAX_TEMPLATE_BYTES = 32 * 1024;
/** How deeply the state may nest: Postgres' jsonb (and recursive JSON code) has a depth limit. */
export const MAX_STATE_DEPTH = 100;
/** Failure messages (which may quote a provider's or a server's error) are kept to this length. */
const MAX_MESSAGE_CHARS = 2_000;

type NodeOutcome =
  | { kind: 'ok'; state: State; usage?: LlmUsage }
  /** The call failed (`failure` says how, for a retry policy); a tool's may be routed by `tool_error`. */
  | { kind: 'tool_failed'; message: string; failure: FailureKind }
  | { kind: 'failed'; message: string; failure?: FailureKind }
  | { kind: 'cancelled' };

/** About four characters a token: the estimate when a provider reports no usage. */
const estimateTokens = (text: string) => Math.ceil(text.length / 4);

class Cancelled extends Error {}

/** Settles when the signal aborts even if the callee ignores it, so cancel is prompt. */
const untilAborted = <T>(promise: Promise<T>, signal: AbortSignal): Promise<T> =>
  raceAbort(promise, signal, () => new Cancelled());

/**
 * What a failed call says in the run's events. Provider and tool errors are written for users;
 * anything else is a bug or a runtime's own text, which goes to the log only.
 */
function errorMessage(err: unknown, node: string): string {
  if (err instanceof LlmError || err instanceof ToolError) return `${err.code}: ${err.message}`;
  const reference = crypto.randomUUID();
  log('error', 'graph node failed unexpectedly', { node, reference, err });
  return `an internal error (the log has it under reference ${reference})`;
}

/** `262144 bytes, 256 KiB`: the figure as configured, and in the unit people think in. */
const sizeOf = (bytes: number) =>
  bytes >= 1024 ? `${bytes} bytes, ${Math.floor(bytes / 1024)} KiB` : `${bytes} bytes`;

/** The failure of a node whose render passed a bound, naming the setting behind it. */
function renderLimitMessage(nodeId: string, err: TemplateLimitError): string {
  return err.limit === 'template'
    ? `node "${nodeId}" would render a template over the template limit TEMPLATE_MAX_BYTES (${sizeOf(err.maxBytes)})`
    : `node "${nodeId}" would render a value over the state limit RUN_STATE_MAX_BYTES (${sizeOf(err.maxBytes)})`;
}

/** Messages end up in the state's log, the run's record and Postgres: clean and bounded. */
function safeMessage(message: string): string {
  const clean = cleanText(message);
  return clean.length > MAX_MESSAGE_CHARS ? `${clean.slice(0, MAX_MESSAGE_CHARS)}…` : clean;
}

function withKey(state: State, key: string, value: unknown): State {
  // A computed key always creates an own property, even for odd names.
  return { ...state, [key]: value };
}

async function runNode(
  node: Exclude<GraphNode, HumanInputNode>,
  state: State,
  signal: AbortSignal,
  deps: ExecutorDeps,
  limits: RenderLimits,
  onDelta: ((text: string) => void) | undefined,
): Promise<NodeOutcome> {
  const maxBytes = limits.templateBytes;
  switch (node.type) {
    case 'transform': {
      const rendered = renderValue(node.set, state, limits) as Record<string, unknown>;
      let next = state;
      for (const [key, value] of Object.entries(rendered)) next = withKey(next, key, value);
      return { kind: 'ok', state: next };
    }
    case 'llm': {
      const prompt = renderTemplate(node.prompt, state, { maxBytes });
      const system = node.system === undefined ? undefined : renderTemplate(node.system, state, { maxBytes });
      const streamTo = node.stream && onDelta ? onDelta : undefined;
      // The answer lands in the state, so the state's bound is the most worth reading. Providers
      // stop there themselves; the streamed text is also counted here, so a provider that does
      // not cannot grow the hub's copy of it (node_delta) past the bound either.
      const maxOutputBytes = limits.valueBytes;
      const overLimit = () => ({
        kind: 'failed' as const,
        message: `node "${node.id}" (llm) answered more than the state limit RUN_STATE_MAX_BYTES (${sizeOf(maxOutputBytes)}); the answer was not read further`,
      });
      const budget = new AbortController();
      const callSignal = AbortSignal.any([signal, budget.signal]);
      let streamed = 0;
      try {
        const result = await untilAborted(
          deps.llm.complete({
            prompt,
            ...(system === undefined ? {} : { system }),
            signal: callSignal,
            maxOutputBytes,
            ...(streamTo
              ? {
                  onDelta: (text: string) => {
                    // A provider that ignores the abort must not stream into a cancelled run.
                    if (callSignal.aborted) return;
                    streamed += utf8Bytes(text);
                    if (streamed > maxOutputBytes) budget.abort();
                    else streamTo(text);
                  },
                }
              : {}),
          }),
          callSignal,
        );
        if (budget.signal.aborted) return overLimit();
        const usage: LlmUsage = result.usage ?? {
          prompt_tokens: estimateTokens(`${system ?? ''}${prompt}`),
          completion_tokens: estimateTokens(result.text),
          estimated: true,
        };
        // Model output is untrusted text: NUL and lone surrogates cannot be stored in Postgres.
        return { kind: 'ok', state: withKey(state, node.output_key, cleanText(result.text)), usage };
      } catch (err) {
        if (signal.aborted) return { kind: 'cancelled' };
        if (budget.signal.aborted || (err instanceof LlmError && err.code === 'too_large'))
          return overLimit();
        if (err instanceof Cancelled) return { kind: 'cancelled' };
        return {
          kind: 'failed',
          message: `node "${node.id}" (llm) failed: ${errorMessage(err, node.id)}`,
          failure: classifyFailure(err),
        };
      }
    }
    case 'tool': {
      const tool = deps.tools.get(node.tool);
      if (!tool)
        return { kind: 'failed', message: `node "${node.id}": tool "${node.tool}" is not available` };
      const args = renderValue(
        node.args,
        state,
        limits,
        tool.urlArgs ? { encodeKeys: { keys: tool.urlArgs, encode: encodeURIComponent } } : {},
      ) as Record<string, unknown>;
      try {
        const output = await untilAborted(
          tool.run(args, {
            signal,
            fetch: deps.fetch ?? ((input, init) => globalThis.fetch(input, init)),
            allowHosts: deps.allowHosts ?? [],
          }),
          signal,
        );
        // Round-trip through JSON: state is persisted and streamed, so it must hold JSON only;
        // and cleaned, since a fetched body may hold NUL, which Postgres cannot store.
        const value: unknown = output === undefined ? null : cleanJson(JSON.parse(JSON.stringify(output)));
        return {
          kind: 'ok',
          state: node.output_key === undefined ? state : withKey(state, node.output_key, value),
        };
      } catch (err) {
        if (err instanceof Cancelled || signal.aborted) return { kind: 'cancelled' };
        return {
          kind: 'tool_failed',
          message: `node "${node.id}" (tool ${node.tool}) failed: ${errorMessage(err, node.id)}`,
          failure: classifyFailure(err),
        };
      }
    }
  }
}

export async function execute(opts: ExecuteOptions): Promise<ExecutionResult> {
  const { graph, signal, deps, onStep } = opts;
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const maxStateBytes = opts.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES;
  const limits: RenderLimits = {
    templateBytes: opts.maxTemplateBytes ?? DEFAULT_MAX_TEMPLATE_BYTES,
    // What a node renders lands in (or is a copy of) the state: the state's bound holds it.
    valueBytes: maxStateBytes,
  };
  const stepsBefore = opts.stepsBefore ?? 0;
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const edges = new Map<string, Edge>(graph.edges.map((e) => [e.from, e]));

  let checkpoint: Checkpoint = structuredClone(opts.checkpoint);
  let steps = 0;

  const cancelled = (): ExecutionResult => ({ status: 'cancelled', checkpoint });
  const failed = (node_id: string, message: string): ExecutionResult => ({
    status: 'failed',
    node_id,
    code: 'node_failed',
    message: safeMessage(message),
    checkpoint,
  });
  /** The failure when `state` (what node `node_id` produced) is over the state limit. */
  const overStateLimit = (node_id: string, state: State): ExecutionResult | undefined => {
    if (jsonDepth(state, MAX_STATE_DEPTH) > MAX_STATE_DEPTH) {
      return failed(
        node_id,
        `node "${node_id}" would make the run state nest more than ${MAX_STATE_DEPTH} levels deep, the state limit`,
      );
    }
    const bytes = jsonBytes(state);
    if (bytes <= maxStateBytes) return undefined;
    return failed(
      node_id,
      `node "${node_id}" would make the run state ${bytes} bytes, over the state limit RUN_STATE_MAX_BYTES (${sizeOf(maxStateBytes)})`,
    );
  };
  const advance = async (
    from: string,
    state: State,
    choice: EdgeChoice,
    duration_ms: number,
    extra: { toolError?: string; usage?: LlmUsage } = {},
  ) => {
    const next: Checkpoint = { next: choice.to, state };
    const completed: ExecutorEvent = {
      type: 'node_completed',
      node_id: from,
      state: structuredClone(state),
      duration_ms,
      ...(extra.toolError === undefined ? {} : { tool_error: extra.toolError }),
      ...(extra.usage === undefined ? {} : { usage: extra.usage }),
    };
    const edge: ExecutorEvent = {
      type: 'edge_traversed',
      from,
      to: choice.to,
      ...(choice.condition_result === undefined ? {} : { condition_result: choice.condition_result }),
    };
    await onStep([completed, edge], structuredClone(next));
    checkpoint = next;
  };

  for (;;) {
    // A run whose last step already reached the end is complete, even if a cancel arrived meanwhile.
    if (checkpoint.next === END) return { status: 'completed', state: checkpoint.state };
    if (signal.aborted) return cancelled();
    const node = nodes.get(checkpoint.next);
    if (!node) return failed(checkpoint.next, `node "${checkpoint.next}" does not exist in this graph`);
    if (stepsBefore + steps >= maxSteps) {
      return failed(
        node.id,
        `run reached the step limit (${maxSteps} steps) at node "${node.id}"; the graph is probably looping`,
      );
    }
    steps++;
    const state = checkpoint.state;

    if (node.type === 'human_input') {
      if (checkpoint.resume_input === undefined) {
        let prompt: string;
        try {
          prompt = renderTemplate(node.prompt, state, { maxBytes: limits.templateBytes });
        } catch (err) {
          if (err instanceof TemplateLimitError) return failed(node.id, renderLimitMessage(node.id, err));
          throw err;
        }
        await onStep(
          [
            { type: 'node_started', node_id: node.id },
            { type: 'graph_paused', node_id: node.id, prompt },
          ],
          structuredClone(checkpoint),
        );
        return { status: 'paused', node_id: node.id, prompt, checkpoint };
      }
      const nextState = withKey(state, node.output_key, structuredClone(checkpoint.resume_input));
      const tooBig = overStateLimit(node.id, nextState);
      if (tooBig) return tooBig;
      // The wait was the person's, not the node's: report no processing time.
      await advance(
        node.id,
        nextState,
        chooseNext(edges.get(node.id), { state: nextState, toolError: false }),
        0,
      );
      continue;
    }

    if (checkpoint.resume_input !== undefined) {
      // A resume input only belongs to the human_input node it answers; anything else is stale.
      const { resume_input: _stale, ...rest } = checkpoint;
      checkpoint = rest;
    }
    // The wait between attempts is over once execution reaches the node again.
    const { retry_at: _waited, ...current } = checkpoint;
    checkpoint = current;
    const attempt = (checkpoint.attempt ?? 0) + 1;

    await onStep(
      [{ type: 'node_started', node_id: node.id, ...(attempt > 1 ? { attempt } : {}) }],
      structuredClone(checkpoint),
    );
    if (signal.aborted) return cancelled();
    const started = deps.now();
    const onDelta = opts.onDelta;
    let outcome: NodeOutcome;
    try {
      outcome = await runNode(
        node,
        state,
        signal,
        deps,
        limits,
        onDelta && ((text) => onDelta(node.id, text)),
      );
    } catch (err) {
      if (err instanceof TemplateLimitError) return failed(node.id, renderLimitMessage(node.id, err));
      throw err;
    }
    const ended = deps.now();
    const duration = Math.max(0, ended - started);
    if (outcome.kind === 'cancelled' || signal.aborted) return cancelled();

    const policy = node.type === 'transform' ? undefined : node.retry;
    if (
      (outcome.kind === 'failed' || outcome.kind === 'tool_failed') &&
      outcome.failure &&
      policy &&
      shouldRetry(policy, attempt, outcome.failure)
    ) {
      const nextAt = ended + retryDelayMs(policy, attempt, outcome.failure);
      const waiting: Checkpoint = { next: node.id, state, attempt, retry_at: nextAt };
      await onStep(
        [
          {
            type: 'node_retrying',
            node_id: node.id,
            attempt,
            max_attempts: policy.max_attempts,
            error: safeMessage(outcome.message),
            next_attempt_at: nextAt,
          },
        ],
        structuredClone(waiting),
      );
      checkpoint = waiting;
      return { status: 'retrying', node_id: node.id, attempt, next_attempt_at: nextAt, checkpoint };
    }

    const edge = edges.get(node.id);
    if (outcome.kind === 'failed') return failed(node.id, outcome.message);
    if (outcome.kind === 'tool_failed') {
      const choice = chooseOnToolError(edge);
      if (!choice) return failed(node.id, outcome.message);
      await advance(node.id, state, choice, duration, { toolError: safeMessage(outcome.message) });
      continue;
    }
    const tooBig = overStateLimit(node.id, outcome.state);
    if (tooBig) return tooBig;
    await advance(
      node.id,
      outcome.state,
      chooseNext(edge, { state: outcome.state, toolError: false }),
      duration,
      outcome.usage === undefined ? {} : { usage: outcome.usage },
    );
  }
}
