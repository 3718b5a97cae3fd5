import type { RunErrorCode } from '../contract/events';
import type { HubRunStatus } from '../contract/statuses';
import type { Checkpoint } from '../graphs/executor';
import type { Graph } from '../graphs/graph-schema';

export interface RunRecord {
  id: string;
  accountId: string;
  userId: string;
  graphId: string;
  graphVersion: number;
  graph: Graph;
  status: HubRunStatus;
  checkpoint: Checkpoint;
  input: unknown;
  /** Nodes completed so far; names each step's events so a re-run step logs nothing twice. */
  steps: number;
  /** Bytes of events the run's steps have logged (bounded by the run-log limit). */
  logBytes: number;
  /** Bumped by every transition; Postgres keeps the highest version it was sent. */
  version: number;
  startedAt: number;
  /** Active time accumulated before the current running segment. */
  activeMs: number;
  /** Start of the current running segment; null while paused or ended. */
  segmentStartedAt: number | null;
  pausedAt: number | null;
  pausedNode: string | null;
  pausedPrompt: string | null;
  endedAt: number | null;
  errorCode: RunErrorCode | null;
  errorMessage: string | null;
  runTimeoutMs: number;
  pauseTimeoutMs: number;
}

type Row = {
  id: string;
  account_id: string;
  user_id: string;
  graph_id: string;
  graph_version: number;
  graph: string;
  status: string;
  checkpoint: string;
  input: string;
  steps: number;
  log_bytes: number | null;
  version: number;
  started_at: number;
  active_ms: number;
  segment_started_at: number | null;
  paused_at: number | null;
  paused_node: string | null;
  paused_prompt: string | null;
  ended_at: number | null;
  error_code: string | null;
  error_message: string | null;
  run_timeout_ms: number;
  pause_timeout_ms: number;
};

const COLUMNS: Record<keyof RunRecord, keyof Row> = {
  id: 'id',
  accountId: 'account_id',
  userId: 'user_id',
  graphId: 'graph_id',
  graphVersion: 'graph_version',
  graph: 'graph',
  status: 'status',
  checkpoint: 'checkpoint',
  input: 'input',
  steps: 'steps',
  logBytes: 'log_bytes',
  version: 'version',
  startedAt: 'started_at',
  activeMs: 'active_ms',
  segmentStartedAt: 'segment_started_at',
  pausedAt: 'paused_at',
  pausedNode: 'paused_node',
  pausedPrompt: 'paused_prompt',
  endedAt: 'ended_at',
  errorCode: 'error_code',
  errorMessage: 'error_message',
  runTimeoutMs: 'run_timeout_ms',
  pauseTimeoutMs: 'pause_timeout_ms',
};

const JSON_FIELDS = new Set<keyof RunRecord>(['graph', 'checkpoint', 'input']);

function fromRow(r: Row): RunRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    userId: r.user_id,
    graphId: r.graph_id,
    graphVersion: r.graph_version,
    graph: JSON.parse(r.graph) as Graph,
    status: r.status as HubRunStatus,
    checkpoint: JSON.parse(r.checkpoint) as Checkpoint,
    input: JSON.parse(r.input),
    steps: r.steps,
    logBytes: r.log_bytes ?? 0,
    version: r.version,
    startedAt: r.started_at,
    activeMs: r.active_ms,
    segmentStartedAt: r.segment_started_at,
    pausedAt: r.paused_at,
    pausedNode: r.paused_node,
    pausedPrompt: r.paused_prompt,
    endedAt: r.ended_at,
    errorCode: r.error_code as RunErrorCode | null,
    errorMessage: r.error_message,
    runTimeoutMs: r.run_timeout_ms,
    pauseTimeoutMs: r.pause_timeout_ms,
  };
}

/** The registry's tables (the runs module's first migration; upgrades older registries in place). */
export function createRunTables(sql: SqlStorage): void {
  sql.exec(`create table if not exists runs (
    id text primary key,
    account_id text not null,
    user_id text not null,
    graph_id text not null,
    graph_version integer not null,
    graph text not null,
    status text not null,
    checkpoint text not null,
    input text not null,
    steps integer not null default 0,
    log_bytes integer not null default 0,
    version integer not null default 1,
    started_at integer not null,
    active_ms integer not null default 0,
    segment_started_at integer,
    paused_at integer,
    paused_node text,
    paused_prompt text,
    ended_at integer,
    error_code text,
    error_message text,
    run_timeout_ms integer not null,
    pause_timeout_ms integer not null
  )`);
  // Registries created before the column existed.
  const columns = sql.exec<{ name: string }>('pragma table_info(runs)').toArray();
  if (!columns.some((c) => c.name === 'log_bytes')) {
    sql.exec('alter table runs add column log_bytes integer not null default 0');
  }
  sql.exec('create index if not exists runs_status_user on runs (status, user_id)');
  // Ids cancelled before the hub ever saw their start: a start that arrives later is refused,
  // so a cancelled run can never come back to life.
  sql.exec(`create table if not exists run_tombstones (
    id text primary key,
    cancelled_at integer not null
  )`);
}

/**
 * The run registry in the hub's SQLite: one row per run with its checkpoint. Every method is
 * synchronous, so a check and the write that depends on it (a slot, a resume) cannot interleave
 * with another request.
 */
export class RunRegistry {
  constructor(private readonly sql: SqlStorage) {}

  addTombstone(id: string, now: number): void {
    this.sql.exec(
      'insert into run_tombstones (id, cancelled_at) values (?, ?) on conflict (id) do nothing',
      id,
      now,
    );
  }

  hasTombstone(id: string): boolean {
    return this.sql.exec('select 1 from run_tombstones where id = ?', id).toArray().length > 0;
  }

  deleteTombstone(id: string): void {
    this.sql.exec('delete from run_tombstones where id = ?', id);
  }

  get(id: string): RunRecord | undefined {
    const row = this.sql.exec<Row>('select * from runs where id = ?', id).toArray()[0];
    return row ? fromRow(row) : undefined;
  }

  insert(run: RunRecord): void {
    const keys = Object.keys(COLUMNS) as (keyof RunRecord)[];
    const values = keys.map((k) => (JSON_FIELDS.has(k) ? JSON.stringify(run[k]) : run[k]));
    this.sql.exec(
      `insert into runs (${keys.map((k) => COLUMNS[k]).join(', ')}) values (${keys.map(() => '?').join(', ')})`,
      ...(values as SqlStorageValue[]),
    );
  }

  /**
   * Writes the given fields; a transition (the default) bumps the version that Postgres copies
   * are ordered by, a step (checkpoint only) does not.
   */
  update(
    id: string,
    fields: Partial<Omit<RunRecord, 'id' | 'version'>>,
    opts: { bump?: boolean } = {},
  ): RunRecord {
    const keys = Object.keys(fields) as (keyof RunRecord)[];
    const sets = keys.map((k) => `${COLUMNS[k]} = ?`);
    const values = keys.map((k) => {
      const v = fields[k as keyof typeof fields];
      return (JSON_FIELDS.has(k) ? JSON.stringify(v) : (v ?? null)) as SqlStorageValue;
    });
    const row = this.sql
      .exec<Row>(
        `update runs set ${[...sets, ...(opts.bump === false ? [] : ['version = version + 1'])].join(', ')} where id = ? returning *`,
        ...values,
        id,
      )
      .toArray()[0];
    if (!row) throw new Error(`run ${id} is not in the registry`);
    return fromRow(row);
  }

  /** Runs holding a slot: running ones (paused runs hold none). */
  activeCounts(userId: string): { user: number; account: number } {
    const row = this.sql
      .exec<{ user: number; account: number }>(
        `select coalesce(sum(case when user_id = ? then 1 else 0 end), 0) as user, count(*) as account
         from runs where status = 'running'`,
        userId,
      )
      .one();
    return { user: row.user, account: row.account };
  }

  /** Soonest active-time deadline among running runs (of `userId` when given). */
  soonestDeadline(userId?: string): number | undefined {
    const row = this.sql
      .exec<{ t: number | null }>(
        `select min(segment_started_at + run_timeout_ms - active_ms) as t from runs
         where status = 'running' and (? is null or user_id = ?)`,
        userId ?? null,
        userId ?? null,
      )
      .one();
    return row.t ?? undefined;
  }

  pausedCount(): number {
    return this.sql.exec<{ n: number }>(`select count(*) as n from runs where status = 'paused'`).one().n;
  }

  /** Soonest pause timeout among paused runs. */
  soonestPauseDeadline(): number | undefined {
    const row = this.sql
      .exec<{ t: number | null }>(
        `select min(paused_at + pause_timeout_ms) as t from runs where status = 'paused'`,
      )
      .one();
    return row.t ?? undefined;
  }

  idsWithStatus(status: HubRunStatus): string[] {
    return this.sql
      .exec<{ id: string }>('select id from runs where status = ?', status)
      .toArray()
      .map((r) => r.id);
  }

  delete(id: string): void {
    this.sql.exec('delete from runs where id = ?', id);
  }
}
