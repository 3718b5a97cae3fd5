import { getConfig } from '../config';
import { isTerminalStatus, type RunStatus } from '../contract/statuses';
import type { Db } from '../db/client';
import type { RunRow } from '../db/schema';
import type { Graph } from '../graphs/graph-schema';
import { findGraph } from '../graphs/graph-store';
import type { State } from '../graphs/template';
import { hubFor } from '../hub/hub-client';
import type { Identity } from '../lib/app-env';
import { hubCall } from '../lib/hub-call';
import { jsonBytes } from '../lib/json-safety';
import { currentRunView } from './current-run';
import { RUN_CHECKPOINT_RETENTION_MS } from './run-checkpoints';
import { type RunStartOutcome, type RunStartSettings, startGraphRun } from './run-start';
import type { RunCheckpointResult } from './run-types';

export interface RerunRequest {
  from_node?: string | undefined;
  state_patch?: Record<string, unknown> | undefined;
}

export type RerunOutcome =
  | RunStartOutcome
  /** Only a finished run (completed, failed, cancelled, timed out) is rerun. */
  | { ok: false; reason: 'not_finished'; status: RunStatus }
  | { ok: false; reason: 'no_graph' }
  /** `from_node` is not a node of the run's graph. */
  | { ok: false; reason: 'no_such_node'; node: string }
  /** The run never started `from_node`. */
  | { ok: false; reason: 'not_reached'; node: string }
  /** The run reached it, but ended more than 7 days ago: its checkpoints are gone. */
  | { ok: false; reason: 'checkpoints_expired'; node: string }
  | { ok: false; reason: 'state_too_big'; bytes: number; limit: number };

/**
 * The node a rerun starts at when none is named: the node a failed run stopped at, else the
 * node the run itself started at (the graph's entry, or a rerun's own `from_node`).
 */
export function defaultRerunNode(
  run: { status: RunStatus; current_node: string | null; from_node: string | null },
  graph: Graph,
): string {
  const nodes = new Set(graph.nodes.map((n) => n.id));
  if (run.status === 'failed' && run.current_node !== null && nodes.has(run.current_node))
    return run.current_node;
  return run.from_node ?? graph.entry;
}

/**
 * Starts a new run of a finished run's graph at `from_node`, with the state the parent had before
 * that node ran (its checkpoint in the hub), shallow-merged with `state_patch`. The state before
 * the node a run started at is its input, so that node needs no checkpoint.
 */
export async function rerunFrom(
  env: Env,
  db: Db,
  who: Identity,
  parent: RunRow,
  request: RerunRequest,
  settings: RunStartSettings,
  now = Date.now(),
): Promise<RerunOutcome> {
  // The hub's view first: Postgres may not have the end yet (or may still say running).
  const { view } = await currentRunView(env, db, parent);
  if (!isTerminalStatus(view.status)) return { ok: false, reason: 'not_finished', status: view.status };
  const graph = await findGraph(db, parent.accountId, parent.graphId);
  if (!graph) return { ok: false, reason: 'no_graph' };
  const schema = graph.schema as Graph;
  const fromNode = request.from_node ?? defaultRerunNode({ ...view, from_node: parent.fromNode }, schema);
  if (!schema.nodes.some((n) => n.id === fromNode))
    return { ok: false, reason: 'no_such_node', node: fromNode };

  let state: State;
  const found = await hubCall<RunCheckpointResult>('runCheckpoint', () =>
    hubFor(env, parent.accountId).runCheckpoint(parent.id, fromNode),
  );
  if (found.ok) state = found.state;
  else if (fromNode === (parent.fromNode ?? schema.entry)) state = parent.input as State;
  else {
    const endedAt = view.ended_at === null ? now : Date.parse(view.ended_at);
    return now - endedAt > RUN_CHECKPOINT_RETENTION_MS
      ? { ok: false, reason: 'checkpoints_expired', node: fromNode }
      : { ok: false, reason: 'not_reached', node: fromNode };
  }
  const merged: State = { ...state, ...(request.state_patch ?? {}) };
  const bytes = jsonBytes(merged);
  // The limit every node of the new run is held to: a start over it could not take one step.
  const limit = getConfig(env).RUN_STATE_MAX_BYTES;
  if (bytes > limit) return { ok: false, reason: 'state_too_big', bytes, limit };
  return startGraphRun(env, db, who, graph, merged, settings, {
    rerun: { parentRunId: parent.id, fromNode },
  });
}
