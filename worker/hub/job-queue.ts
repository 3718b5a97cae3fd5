export interface Job {
  id: string;
  kind: string;
  payload: unknown;
  runAt: number;
  attempts: number;
}

/** A row is still the job a handler was given: neither moved nor replaced since. */
const SAME_JOB = 'run_at = ? and payload = ?';

const marks = (list: readonly unknown[]) => list.map(() => '?').join(', ');

/** The job table (the host schema's first migration). */
export function createJobTable(sql: SqlStorage): void {
  sql.exec(`create table if not exists jobs (
    id text primary key,
    kind text not null,
    payload text not null,
    run_at integer not null,
    attempts integer not null default 0,
    last_error text
  )`);
  sql.exec('create index if not exists jobs_run_at on jobs (run_at)');
}

/**
 * Each kind's jobs in time order (the host schema's fourth migration): "the earliest of kind K"
 * and "the earliest not of the kinds whose slots are full" become index seeks. Without it those
 * walked past every due delivery, once per delivery: thousands of due rows made each O(n).
 */
export function indexJobsByKind(sql: SqlStorage): void {
  sql.exec('create index if not exists jobs_kind_run_at on jobs (kind, run_at)');
}

/**
 * The kinds present, by a seek per kind in `jobs_kind_run_at` (SQLite's "loose index scan"), not a
 * read of every row: a handful of kinds over thousands of jobs.
 */
const KINDS = `with recursive kinds(kind) as (
    select (select min(kind) from jobs)
    union all
    select (select min(kind) from jobs where kind > kinds.kind) from kinds where kinds.kind is not null
  )`;

/**
 * Durable jobs in the hub's SQLite, drained by the alarm. Enqueueing the same id twice keeps one
 * job, which makes every producer idempotent.
 */
export class JobQueue {
  constructor(private readonly sql: SqlStorage) {}

  /** Adds a job unless one with this id exists; returns whether it was added. */
  enqueue(id: string, kind: string, payload: unknown, runAt: number): boolean {
    return (
      this.sql.exec(
        'insert into jobs (id, kind, payload, run_at) values (?, ?, ?, ?) on conflict (id) do nothing',
        id,
        kind,
        JSON.stringify(payload),
        runAt,
      ).rowsWritten > 0
    );
  }

  /** Moves a job's time (e.g. a run timeout extended on resume); adds it when missing. */
  upsert(id: string, kind: string, payload: unknown, runAt: number): void {
    this.sql.exec(
      `insert into jobs (id, kind, payload, run_at) values (?, ?, ?, ?)
       on conflict (id) do update set run_at = excluded.run_at, payload = excluded.payload, attempts = 0`,
      id,
      kind,
      JSON.stringify(payload),
      runAt,
    );
  }

  /** Due jobs, earliest first; none of the kinds in `skipKinds` (kinds that may not start more now). */
  due(now: number, limit = 50, skipKinds: readonly string[] = []): Job[] {
    if (skipKinds.length === 0) return this.select('where run_at <= ? order by run_at limit ?', now, limit);
    // Each other kind's earliest, by a seek and `limit` at most: neither a skipped kind's due rows
    // nor more of a kept kind's than could be returned are read.
    const skip = new Set(skipKinds);
    return this.kinds()
      .filter((kind) => !skip.has(kind))
      .flatMap((kind) => this.dueOfKind(now, kind, limit))
      .sort((a, b) => a.runAt - b.runAt)
      .slice(0, limit);
  }

  /** The kinds present. */
  private kinds(): string[] {
    return this.sql
      .exec<{ kind: string }>(`${KINDS} select kind from kinds where kind is not null`)
      .toArray()
      .map((r) => r.kind);
  }

  /** Due jobs of one kind, earliest first (a background kind: as many as it has free slots). */
  dueOfKind(now: number, kind: string, limit: number): Job[] {
    return this.select('where run_at <= ? and kind = ? order by run_at limit ?', now, kind, limit);
  }

  /**
   * Moves a job to `runAt` only while the row is still `job`; returns the moved row (what a later
   * guarded `complete` or `retry` must be given), or undefined when it was moved or removed meanwhile.
   */
  reschedule(job: Job, runAt: number): Job | undefined {
    const moved = this.sql.exec(
      `update jobs set run_at = ? where id = ? and ${SAME_JOB}`,
      runAt,
      job.id,
      job.runAt,
      JSON.stringify(job.payload),
    ).rowsWritten;
    return moved > 0 ? { ...job, runAt } : undefined;
  }

  /**
   * Removes a job. Given the `job` a handler ran, only while the row is still that job: one
   * re-armed meanwhile (same id, a new time or payload, while the handler awaited) is kept.
   */
  complete(id: string, job?: Job): void {
    if (job)
      this.sql.exec(
        `delete from jobs where id = ? and ${SAME_JOB}`,
        id,
        job.runAt,
        JSON.stringify(job.payload),
      );
    else this.sql.exec('delete from jobs where id = ?', id);
  }

  /** Moves a failed job to its next attempt; given the `job`, only while the row is still that job. */
  retry(id: string, runAt: number, error: string, job?: Job): void {
    const guard = job ? [job.runAt, JSON.stringify(job.payload)] : [];
    this.sql.exec(
      `update jobs set run_at = ?, attempts = attempts + 1, last_error = ? where id = ?${job ? ` and ${SAME_JOB}` : ''}`,
      runAt,
      error,
      id,
      ...guard,
    );
  }

  get(id: string): Job | undefined {
    return this.select('where id = ?', id)[0];
  }

  private select(clause: string, ...args: SqlStorageValue[]): Job[] {
    return this.sql
      .exec<{ id: string; kind: string; payload: string; run_at: number; attempts: number }>(
        `select id, kind, payload, run_at, attempts from jobs ${clause}`,
        ...args,
      )
      .toArray()
      .map((r) => ({
        id: r.id,
        kind: r.kind,
        payload: JSON.parse(r.payload),
        runAt: r.run_at,
        attempts: r.attempts,
      }));
  }

  /**
   * The earliest job's time. Given kinds to skip, their jobs due by `now` do not count (they wait
   * for a free slot, which re-arms the alarm); their later ones (leases) still do.
   */
  nextRunAt(now = 0, skipDueKinds: readonly string[] = []): number | undefined {
    if (skipDueKinds.length === 0)
      return this.sql.exec<{ t: number | null }>('select min(run_at) as t from jobs').one().t ?? undefined;
    // Per kind, a seek: its earliest job, or for a skipped kind its earliest after `now`.
    const earliest = this.sql
      .exec<{ t: number | null }>(
        `${KINDS} select min(
           case when kind in (${marks(skipDueKinds)})
             then (select min(run_at) from jobs where jobs.kind = kinds.kind and run_at > ?)
             else (select min(run_at) from jobs where jobs.kind = kinds.kind)
           end) as t
         from kinds where kind is not null`,
        ...skipDueKinds,
        now,
      )
      .one().t;
    return earliest ?? undefined;
  }
}

/** Exponential backoff with a cap: 2 s, 4 s, 8 s … up to `capMs`. */
export const backoffMs = (attempts: number, capMs = 5 * 60_000) => Math.min(capMs, 2_000 * 2 ** attempts);
