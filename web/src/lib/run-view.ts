import type { LlmUsage, RunEvent } from '../../../worker/contract/events';

// What the run screen shows, folded from the run's events. Pure, so a replay from event 0 and a
// resume by Last-Event-ID give the same picture.

export type NodeStatus = 'waiting' | 'running' | 'retrying' | 'paused' | 'done' | 'failed';
export type RunPhase = 'connecting' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';

export interface NodeView {
  status: NodeStatus;
  /** The run's state when this node (last) started: what a rerun from here starts from. */
  stateBefore?: Record<string, unknown>;
  /** The run's state right after this node, when it completed. */
  state?: Record<string, unknown>;
  /** The attempt running or last run (1 unless the node has a retry policy and failed before). */
  attempt?: number;
  /** While waiting between attempts: the one that failed, why, and when the next is due (epoch ms). */
  retry?: { attempt: number; maxAttempts: number; error: string; nextAt: number };
  /** An llm node's tokens. */
  usage?: LlmUsage;
  /** An llm node's streamed text so far (this attempt's). */
  streamed?: string;
  durationMs?: number;
  toolError?: string;
  /** What this node changed in the state: the keys it set, with their new values. */
  changed?: Record<string, unknown>;
  /** Where the run went next from here. */
  next?: string;
  conditionResult?: boolean;
}

export interface RunView {
  phase: RunPhase;
  nodes: Record<string, NodeView>;
  /** The node currently running or paused. */
  current: string | null;
  pause: { nodeId: string; prompt: string } | null;
  state: Record<string, unknown>;
  finalState: Record<string, unknown> | null;
  durationMs: number | null;
  error: { code: string; message: string } | null;
  /** Every logged event applied, oldest first, for the log (streamed text is not in it). */
  log: { type: RunEvent['type']; summary: string }[];
  /** The edges the run took, as `from->to`, each once. */
  taken: string[];
  /** The node whose text is streaming, or streamed last. */
  streamingNode: string | null;
  /** A rerun: the run it came from and the node it started at. */
  parent: { runId: string; fromNode: string | null } | null;
}

export const initialRunView = (): RunView => ({
  phase: 'connecting',
  nodes: {},
  current: null,
  pause: null,
  state: {},
  finalState: null,
  durationMs: null,
  error: null,
  log: [],
  taken: [],
  streamingNode: null,
  parent: null,
});

/** The nodes with node `id` changed by `change` (a node without news yet is waiting). */
const withNode = (v: RunView, id: string, change: (n: NodeView) => NodeView): RunView['nodes'] => ({
  ...v.nodes,
  [id]: change(v.nodes[id] ?? { status: 'waiting' }),
});

export function applyRunEvent(v: RunView, e: RunEvent): RunView {
  if (e.type === 'node_delta') {
    // Ephemeral: the text grows (or starts over with `replace`); nothing goes to the log.
    const { replace, text } = e.data;
    return {
      ...v,
      streamingNode: e.data.node_id,
      nodes: withNode(v, e.data.node_id, (n) => ({
        ...n,
        streamed: replace ? text : (n.streamed ?? '') + text,
      })),
    };
  }
  const log = [...v.log, { type: e.type, summary: summarize(e) }];
  switch (e.type) {
    case 'run_started':
      return {
        ...v,
        log,
        phase: 'running',
        state: isRecord(e.data.input) ? { ...e.data.input } : v.state,
        parent: e.data.parent_run_id
          ? { runId: e.data.parent_run_id, fromNode: e.data.from_node ?? null }
          : null,
      };
    case 'node_started': {
      const attempt = e.data.attempt ?? 1;
      return {
        ...v,
        log,
        phase: 'running',
        current: e.data.node_id,
        nodes: withNode(v, e.data.node_id, ({ retry: _over, ...n }) => ({
          ...n,
          status: 'running',
          attempt,
          // A later attempt starts from the same state; a loop back here starts from the new one.
          stateBefore: attempt > 1 && n.stateBefore ? n.stateBefore : v.state,
        })),
      };
    }
    case 'node_retrying': {
      const retry = {
        attempt: e.data.attempt,
        maxAttempts: e.data.max_attempts,
        error: e.data.error,
        nextAt: Date.parse(e.data.next_attempt_at),
      };
      return { ...v, log, nodes: withNode(v, e.data.node_id, (n) => ({ ...n, status: 'retrying', retry })) };
    }
    case 'node_completed': {
      const { state, tool_error, usage } = e.data;
      return {
        ...v,
        log,
        state,
        current: v.current === e.data.node_id ? null : v.current,
        nodes: withNode(v, e.data.node_id, (n) => ({
          ...n,
          status: tool_error ? 'failed' : 'done',
          state,
          changed: changedKeys(v.state, state),
          durationMs: e.data.duration_ms,
          ...(tool_error ? { toolError: tool_error } : {}),
          ...(usage ? { usage } : {}),
        })),
      };
    }
    case 'edge_traversed': {
      const { from, to, condition_result } = e.data;
      const key = `${from}->${to}`;
      return {
        ...v,
        log,
        taken: v.taken.includes(key) ? v.taken : [...v.taken, key],
        nodes: withNode(v, from, (n) => ({
          ...n,
          next: to,
          ...(condition_result === undefined ? {} : { conditionResult: condition_result }),
        })),
      };
    }
    case 'graph_paused':
      return {
        ...v,
        log,
        phase: 'paused',
        current: e.data.node_id,
        pause: { nodeId: e.data.node_id, prompt: e.data.prompt },
        nodes: withNode(v, e.data.node_id, (n) => ({ ...n, status: 'paused' })),
      };
    case 'run_resumed':
      return {
        ...v,
        log,
        phase: 'running',
        pause: null,
        nodes: withNode(v, e.data.node_id, (n) => ({ ...n, status: 'running' })),
      };
    case 'graph_completed':
      return {
        ...v,
        log,
        phase: 'completed',
        current: null,
        pause: null,
        state: e.data.final_state,
        finalState: e.data.final_state,
        durationMs: e.data.duration_ms,
      };
    case 'error': {
      const nodes = { ...v.nodes };
      for (const [id, n] of Object.entries(nodes)) {
        if (n.status === 'running' || n.status === 'paused' || n.status === 'retrying') {
          nodes[id] = { ...n, status: e.data.code === 'cancelled' ? 'waiting' : 'failed' };
        }
      }
      return {
        ...v,
        log,
        nodes,
        phase: e.data.code === 'cancelled' ? 'cancelled' : 'failed',
        current: null,
        pause: null,
        error: e.data,
      };
    }
    default:
      return assertNever(e);
  }
}

export const isTerminal = (phase: RunPhase) =>
  phase === 'completed' || phase === 'failed' || phase === 'cancelled';

function summarize(e: RunEvent): string {
  switch (e.type) {
    case 'run_started':
      return 'run started';
    case 'node_started':
      return `${e.data.node_id} started${e.data.attempt ? ` (attempt ${e.data.attempt})` : ''}`;
    case 'node_retrying':
      return `${e.data.node_id} attempt ${e.data.attempt} of ${e.data.max_attempts} failed: ${e.data.error}; next at ${e.data.next_attempt_at}`;
    case 'node_delta':
      return `${e.data.node_id} streamed ${e.data.text.length} characters`;
    case 'node_completed':
      return `${e.data.node_id} completed in ${e.data.duration_ms} ms${e.data.tool_error ? ` (tool error: ${e.data.tool_error})` : ''}${e.data.usage ? ` (${e.data.usage.prompt_tokens} + ${e.data.usage.completion_tokens} tokens${e.data.usage.estimated ? ', estimated' : ''})` : ''}`;
    case 'edge_traversed':
      return `${e.data.from} → ${e.data.to}${e.data.condition_result === undefined ? '' : ` (condition ${e.data.condition_result})`}`;
    case 'graph_paused':
      return `paused at ${e.data.node_id}: ${e.data.prompt}`;
    case 'run_resumed':
      return `resumed at ${e.data.node_id}`;
    case 'graph_completed':
      return `completed in ${e.data.duration_ms} ms`;
    case 'error':
      return `ended: ${e.data.code} — ${e.data.message}`;
    default:
      return assertNever(e);
  }
}

function changedKeys(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(after)) {
    if (JSON.stringify(before[k]) !== JSON.stringify(value)) out[k] = value;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function assertNever(x: never): never {
  throw new Error(`unexpected event ${JSON.stringify(x)}`);
}
