import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { hubFor } from './hub-client';
import { JobQueue } from './job-queue';

// The job table of a fresh hub (its migrations ran on the first call), emptied for each test.
function withJobs<T>(fn: (jobs: JobQueue, sql: SqlStorage) => T) {
  return runInDurableObject(hubFor(env, crypto.randomUUID()), (_hub, state) => {
    state.storage.sql.exec('delete from jobs');
    return fn(new JobQueue(state.storage.sql), state.storage.sql);
  });
}

const NOW = 1_000_000;

/** Many due jobs of a kind whose slots are full, a few of others, some later ones. */
function fill(jobs: JobQueue) {
  for (let i = 0; i < 500; i++) jobs.enqueue(`d${i}`, 'delivery', { i }, NOW - 1_000 + i);
  jobs.enqueue('lease', 'delivery', {}, NOW + 15_000);
  jobs.enqueue('sync', 'sync', {}, NOW - 5);
  jobs.enqueue('timer', 'timer', {}, NOW + 60_000);
  jobs.enqueue('odd', 'zz-unknown', {}, NOW + 30_000);
}

/** The queue over `sql`, counting the rows SQLite reads for it (what Cloudflare bills, too). */
function counting(sql: SqlStorage) {
  const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
  const counted = {
    exec: (query: string, ...args: SqlStorageValue[]) => {
      const cursor = sql.exec(query, ...args);
      cursors.push(cursor);
      return cursor;
    },
  } as unknown as SqlStorage;
  const rowsRead = () => cursors.splice(0).reduce((n, c) => n + c.rowsRead, 0);
  return { jobs: new JobQueue(counted), rowsRead };
}

describe('JobQueue', () => {
  it('finds the earliest job, and with a full kind skips only its due rows (its lease still counts)', () =>
    withJobs((jobs) => {
      expect(jobs.nextRunAt()).toBeUndefined();
      fill(jobs);
      expect(jobs.nextRunAt()).toBe(NOW - 1_000);
      expect(jobs.nextRunAt(NOW, ['delivery'])).toBe(NOW - 5);
      jobs.complete('sync');
      // Left: the delivery lease, the timer, and a job of a kind no module claims.
      expect(jobs.nextRunAt(NOW, ['delivery'])).toBe(NOW + 15_000);
      jobs.complete('lease');
      expect(jobs.nextRunAt(NOW, ['delivery'])).toBe(NOW + 30_000);
      // A skipped kind's jobs that are not due yet still count.
      expect(jobs.nextRunAt(NOW, ['delivery', 'zz-unknown'])).toBe(NOW + 30_000);
      jobs.complete('odd');
      expect(jobs.nextRunAt(NOW, ['delivery', 'timer'])).toBe(NOW + 60_000);
      expect(jobs.nextRunAt(NOW + 60_000, ['delivery', 'timer'])).toBeUndefined();
    }));

  it('lists due jobs earliest first, without the skipped kinds', () =>
    withJobs((jobs) => {
      fill(jobs);
      jobs.enqueue('sync-2', 'sync', {}, NOW - 2_000);
      expect(jobs.due(NOW, 3).map((j) => j.id)).toEqual(['sync-2', 'd0', 'd1']);
      expect(jobs.due(NOW, 50, ['delivery']).map((j) => j.id)).toEqual(['sync-2', 'sync']);
      expect(jobs.due(NOW + 60_000, 50, ['delivery', 'sync']).map((j) => j.id)).toEqual(['odd', 'timer']);
      expect(jobs.dueOfKind(NOW, 'delivery', 2).map((j) => j.id)).toEqual(['d0', 'd1']);
    }));

  // Regression: with a full kind skipped, both reads walked every due delivery, and the host
  // asks after every delivery that settles: webhook throughput fell as the backlog grew.
  it('reads a few rows per kind, not every due job of the kind it skips', () =>
    withJobs((_jobs, sql) => {
      const { jobs, rowsRead } = counting(sql);
      fill(jobs);
      rowsRead();
      expect(jobs.nextRunAt(NOW, ['delivery'])).toBe(NOW - 5);
      expect(rowsRead()).toBeLessThan(50);
      expect(jobs.due(NOW, 50, ['delivery']).map((j) => j.id)).toEqual(['sync']);
      expect(rowsRead()).toBeLessThan(50);
      expect(jobs.dueOfKind(NOW, 'delivery', 6)).toHaveLength(6);
      expect(rowsRead()).toBeLessThan(50);
      // Many due jobs of a kind it keeps: a limit's worth is read, not all of them.
      for (let i = 0; i < 300; i++) jobs.enqueue(`t${i}`, 'timer', {}, NOW - 500 + i);
      rowsRead();
      expect(jobs.due(NOW, 10, ['delivery']).map((j) => j.id)).toEqual(
        Array.from({ length: 10 }, (_, i) => `t${i}`),
      );
      expect(rowsRead()).toBeLessThan(50);
    }));
});
