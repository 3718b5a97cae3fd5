import type { RunEvent } from '../../../worker/contract/events';

// What the run screen shows, folded from the run's events. Pure, so a replay from event 0 and a
// resume by Last-Event-ID give the same picture.

export type NodeStatus = 'waiting' | 'running' | 'paused' | 'done' | 'failed';
export type RunPhase = 'connecting' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';

export interface NodeView {
  status: NodeStatus;
  /** The run's state right after this node, when it completed. */
  state?: Record<string, unknown>;
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
  /** Every event applied, oldest first, for the log. */
  log: { type: RunEvent['type']; summary: string }[];
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
});

const node = (v: RunView, id: string): NodeView => v.nodes[id] ?? { status: 'waiting' };

export function applyRunEvent(v: RunView, e: RunEvent): RunView {
  const log = [...v.log, { type: e.type, summary: summarize(e) }];
  switch (e.type) {
    case 'run_started':
      return {
        ...v,
        log,
        phase: 'running',
        state: isRecord(e.data.input) ? { ...e.data.input } : v.state,
      };
    case 'node_started':
      return {
        ...v,
        log,
        phase: 'running',
        current: e.data.node_id,
        nodes: { ...v.nodes, [e.data.node_id]: { ...node(v, e.data.node_id), status: 'running' } },
      };
    case 'node_completed': {
      const done: NodeView = {
        ...node(v, e.data.node_id),
        status: e.data.tool_error ? 'failed' : 'done',
        state: e.data.state,
        changed: changedKeys(v.state, e.data.state),
        durationMs: e.data.duration_ms,
        ...(e.data.tool_error ? { toolError: e.data.tool_error } : {}),
      };
      return {
        ...v,
        log,
        state: e.data.state,
        current: v.current === e.data.node_id ? null : v.current,
        nodes: { ...v.nodes, [e.data.node_id]: done },
      };
    }
    case 'edge_traversed': {
      const from: NodeView = {
        ...node(v, e.data.from),
        next: e.data.to,
        ...(e.data.condition_result === undefined ? {} : { conditionResult: e.data.condition_result }),
      };
      return { ...v, log, nodes: { ...v.nodes, [e.data.from]: from } };
    }
    case 'graph_paused':
      return {
        ...v,
        log,
        phase: 'paused',
        current: e.data.node_id,
        pause: { nodeId: e.data.node_id, prompt: e.data.prompt },
        nodes: { ...v.nodes, [e.data.node_id]: { ...node(v, e.data.node_id), status: 'paused' } },
      };
    case 'run_resumed':
      return {
        ...v,
        log,
        phase: 'running',
        pause: null,
        nodes: { ...v.nodes, [e.data.node_id]: { ...node(v, e.data.node_id), status: 'running' } },
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
        if (n.status === 'running' || n.status === 'paused') {
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
      return `${e.data.node_id} started`;
    case 'node_completed':
      return `${e.data.node_id} completed in ${e.data.duration_ms} ms${e.data.tool_error ? ` (tool error: ${e.data.tool_error})` : ''}`;
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
