import type { State } from '../graphs/template';

/** The state each node of a run started from, kept this long after the run ends (for reruns). */
export const RUN_CHECKPOINT_RETENTION_MS = 7 * 24 * 60 * 60_000;

export interface NodeCheckpoint {
  nodeId: string;
  /** The run's step number when the node (last) started. */
  step: number;
  /** The state as it was before the node ran. */
  state: State;
  at: number;
}

/** The runs module's second migration: per-node checkpoints, kept past the run log's purge. */
export function createCheckpointTable(sql: SqlStorage): void {
  sql.exec(`create table if not exists run_checkpoints (
    run_id text not null,
    node_id text not null,
    step integer not null,
    state text not null,
    at integer not null,
    primary key (run_id, node_id)
  )`);
}

/**
 * The state before each node of a run, in the hub's SQLite: what a rerun starts from. One row
 * per node (the last time it started), written in the same transaction as the node's
 * `node_started` event, so it always agrees with the log. Every state written here was already
 * logged (the previous node's `node_completed`, or the run's input), so their total is bounded
 * by the run log limit.
 */
export class RunCheckpoints {
  constructor(private readonly sql: SqlStorage) {}

  save(runId: string, nodeId: string, step: number, state: State, at: number): void {
    this.sql.exec(
      `insert into run_checkpoints (run_id, node_id, step, state, at) values (?, ?, ?, ?, ?)
       on conflict (run_id, node_id) do update set step = excluded.step, state = excluded.state, at = excluded.at`,
      runId,
      nodeId,
      step,
      JSON.stringify(state),
      at,
    );
  }

  get(runId: string, nodeId: string): NodeCheckpoint | undefined {
    return this.select('where run_id = ? and node_id = ?', runId, nodeId)[0];
  }

  /** Every node the run reached, in the order it last started them. */
  list(runId: string): NodeCheckpoint[] {
    return this.select('where run_id = ? order by step, at', runId);
  }

  delete(runId: string): void {
    this.sql.exec('delete from run_checkpoints where run_id = ?', runId);
  }

  private select(clause: string, ...args: SqlStorageValue[]): NodeCheckpoint[] {
    return this.sql
      .exec<{ node_id: string; step: number; state: string; at: number }>(
        `select node_id, step, state, at from run_checkpoints ${clause}`,
        ...args,
      )
      .toArray()
      .map((r) => ({ nodeId: r.node_id, step: r.step, state: JSON.parse(r.state) as State, at: r.at }));
  }
}
