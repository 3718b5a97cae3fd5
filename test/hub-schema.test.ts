import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { hubFor } from '../worker/hub/hub-client';
import { hubSchemaVersions, migrateHubSchema } from '../worker/hub/hub-schema';
import { escalate, openStream, waitFor } from './escalation-helpers';
import { call, makeUser } from './helpers';
import { humanGraph, runGraph, runLog, status, waitForStatus } from './runs-helpers';

/**
 * The SQLite layout of hubs created before the versioned schema (commit 2a5ad50): each class ran
 * its own `create table if not exists` statements, there was no `schema_version`, and registries
 * older still had no `log_bytes` column.
 */
const OLD_LAYOUT = [
  `create table topics (topic text primary key, last_id integer not null default 0, purged_through integer not null default 0)`,
  `create table events (topic text not null, id integer not null, type text not null, data text not null,
     dedupe_key text, created_at integer not null, primary key (topic, id)) without rowid`,
  'create unique index events_dedupe on events (topic, dedupe_key) where dedupe_key is not null',
  'create index events_created on events (topic, created_at)',
  `create table jobs (id text primary key, kind text not null, payload text not null, run_at integer not null,
     attempts integer not null default 0, last_error text)`,
  'create index jobs_run_at on jobs (run_at)',
  `create table runs (id text primary key, account_id text not null, user_id text not null, graph_id text not null,
     graph_version integer not null, graph text not null, status text not null, checkpoint text not null,
     input text not null, steps integer not null default 0, version integer not null default 1,
     started_at integer not null, active_ms integer not null default 0, segment_started_at integer,
     paused_at integer, paused_node text, paused_prompt text, ended_at integer, error_code text,
     error_message text, run_timeout_ms integer not null, pause_timeout_ms integer not null)`,
  'create index runs_status_user on runs (status, user_id)',
  'create table run_tombstones (id text primary key, cancelled_at integer not null)',
];

const TABLES = ['topics', 'events', 'jobs', 'runs', 'run_tombstones'] as const;

type Row = Record<string, SqlStorageValue>;

/** Rewrites a hub's storage into the old layout, keeping every row (but the new column). */
function rewriteAsOldLayout(sql: SqlStorage): Record<string, number> {
  const saved = Object.fromEntries(TABLES.map((t) => [t, sql.exec<Row>(`select * from ${t}`).toArray()]));
  for (const t of [...TABLES, 'schema_version']) sql.exec(`drop table if exists ${t}`);
  for (const statement of OLD_LAYOUT) sql.exec(statement);
  for (const t of TABLES) {
    for (const row of saved[t] ?? []) {
      const { log_bytes: _dropped, ...old } = row;
      const columns = Object.keys(old);
      sql.exec(
        `insert into ${t} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`,
        ...Object.values(old),
      );
    }
  }
  return Object.fromEntries(TABLES.map((t) => [t, saved[t]?.length ?? 0]));
}

describe('the hub schema', () => {
  it('records one version per module with tables, in one schema_version table', async () => {
    const alice = await makeUser();
    const versions = await runInDurableObject(hubFor(env, alice.acct), (_hub, state) =>
      hubSchemaVersions(state.storage.sql),
    );
    // The host: log and jobs (1), relays (2), relay users (3), jobs by kind (4); runs: registry (1), checkpoints (2).
    expect(versions).toEqual({ host: 4, escalations: 1, runs: 2, webhooks: 1 });
  });

  it('upgrades a hub written by the old layout in place, keeping its log, runs and jobs', async () => {
    const alice = await makeUser();
    const hub = hubFor(env, alice.acct);
    await escalate(alice);
    await escalate(alice);
    const { run } = await runGraph(alice, humanGraph, { name: 'Ada' });
    await waitForStatus(alice, run.run_id, 'paused');
    const logBefore = await runLog(alice, run.run_id);
    const lastBefore = await hub.lastEventId('escalations');

    const counts = await runInDurableObject(hub, (_h, state) => rewriteAsOldLayout(state.storage.sql));
    expect(counts.runs).toBe(1);
    expect(counts.jobs).toBeGreaterThan(0);
    // A restart runs the constructor, and with it the migrations, on the old layout.
    await runInDurableObject(hub, (_h, state) => state.abort('simulated restart')).catch(() => undefined);
    // The old stub is broken by the restart; a new one reaches the new instance.
    const restarted = hubFor(env, alice.acct);

    const after = await runInDurableObject(restarted, (_h, state) => ({
      versions: hubSchemaVersions(state.storage.sql),
      jobs: state.storage.sql.exec<{ n: number }>('select count(*) as n from jobs').one().n,
      columns: state.storage.sql
        .exec<{ name: string }>('pragma table_info(runs)')
        .toArray()
        .map((c) => c.name),
    }));
    expect(after.versions).toEqual({ host: 4, escalations: 1, runs: 2, webhooks: 1 });
    expect(after.jobs).toBe(counts.jobs);
    expect(after.columns).toContain('log_bytes');
    // The log is intact: the same ids, and a client resuming from the start replays them.
    expect(await restarted.lastEventId('escalations')).toBe(lastBefore);
    expect(await runLog(alice, run.run_id)).toEqual(logBefore);
    const reader = await openStream(alice, 0);
    const replayed = await reader.events(lastBefore, 5_000);
    await reader.close();
    expect(replayed.map((f) => f.id)).toEqual(Array.from({ length: lastBefore }, (_, i) => i + 1));
    // The paused run is still there and finishes.
    expect((await status(alice, run.run_id)).paused?.node_id).toBe('ask');
    expect((await call(`/v1/runs/${run.run_id}/resume`, alice, { body: { input: 'vpn' } })).status).toBe(202);
    const done = await waitForStatus(alice, run.run_id, 'completed');
    expect(done.final_state).toEqual({ name: 'Ada', product: 'vpn', routed: true });
  });

  it('gives a hub of host version 3 the jobs-by-kind index on its next start, keeping its jobs', async () => {
    const alice = await makeUser();
    const hub = hubFor(env, alice.acct);
    await escalate(alice);
    const indexes = (sql: SqlStorage) =>
      sql
        .exec<{ name: string }>(`select name from sqlite_master where type = 'index' and tbl_name = 'jobs'`)
        .toArray()
        .map((r) => r.name);
    const before = await runInDurableObject(hub, (_h, state) => {
      const sql = state.storage.sql;
      sql.exec('drop index jobs_kind_run_at');
      sql.exec(`update schema_version set version = 3 where module = 'host'`);
      return {
        indexes: indexes(sql),
        jobs: sql.exec<{ n: number }>('select count(*) as n from jobs').one().n,
      };
    });
    expect(before.indexes).not.toContain('jobs_kind_run_at');
    expect(before.jobs).toBeGreaterThan(0);
    await runInDurableObject(hub, (_h, state) => state.abort('simulated restart')).catch(() => undefined);
    const after = await runInDurableObject(hubFor(env, alice.acct), (_h, state) => ({
      indexes: indexes(state.storage.sql),
      version: hubSchemaVersions(state.storage.sql).host,
      jobs: state.storage.sql.exec<{ n: number }>('select count(*) as n from jobs').one().n,
    }));
    expect(after).toEqual({
      indexes: expect.arrayContaining(['jobs_kind_run_at']),
      version: 4,
      jobs: before.jobs,
    });
  });

  it('applies only the migrations not yet applied, each once, and refuses a schema newer than the code', async () => {
    const alice = await makeUser();
    const result = await runInDurableObject(hubFor(env, alice.acct), (_hub, state) => {
      const applied: string[] = [];
      const module = (n: number) => ({
        name: 'probe',
        migrations: Array.from({ length: n }, (_, i) => () => {
          applied.push(`v${i + 1}`);
        }),
      });
      migrateHubSchema(state.storage, [module(1)]);
      migrateHubSchema(state.storage, [module(3)]);
      migrateHubSchema(state.storage, [module(3)]);
      let refused: string | undefined;
      try {
        migrateHubSchema(state.storage, [module(2)]);
      } catch (err) {
        refused = (err as Error).message;
      }
      return { applied, version: hubSchemaVersions(state.storage.sql).probe, refused };
    });
    expect(result.applied).toEqual(['v1', 'v2', 'v3']);
    expect(result.version).toBe(3);
    expect(result.refused).toMatch(/newer than this code/);
  });

  it('rolls a failing migration back with its version, so the next start tries it again', async () => {
    const alice = await makeUser();
    const result = await runInDurableObject(hubFor(env, alice.acct), (_hub, state) => {
      const failing = {
        name: 'probe-fail',
        migrations: [
          (sql: SqlStorage) => sql.exec('create table probe_ok (x integer)'),
          (sql: SqlStorage) => {
            sql.exec('create table probe_half (x integer)');
            throw new Error('boom');
          },
        ],
      };
      let error: string | undefined;
      try {
        migrateHubSchema(state.storage, [failing]);
      } catch (err) {
        error = (err as Error).message;
      }
      const tables = state.storage.sql
        .exec<{ name: string }>("select name from sqlite_master where type = 'table' and name like 'probe_%'")
        .toArray()
        .map((r) => r.name);
      return { error, tables, version: hubSchemaVersions(state.storage.sql)['probe-fail'] };
    });
    expect(result.error).toBe('boom');
    expect(result.tables).toEqual(['probe_ok']);
    expect(result.version).toBe(1);
  });
});

// The host serves the stream's subscribers with the identity the Worker passed along.
describe('the hub host', () => {
  it('runs each module job kind through its handler and drops a job of an unknown kind', async () => {
    const alice = await makeUser();
    const hub = hubFor(env, alice.acct);
    await runInDurableObject(hub, (_h, state) => {
      state.storage.sql.exec(
        "insert into jobs (id, kind, payload, run_at) values ('stray', 'no-such-kind', '{}', 0)",
      );
    });
    await runInDurableObject(hub, async (instance) => instance.alarm());
    const left = await waitFor(
      () =>
        runInDurableObject(hub, (_h, state) =>
          state.storage.sql.exec("select count(*) as n from jobs where id = 'stray'").one().n === 0
            ? true
            : undefined,
        ),
      'the stray job to be dropped',
    );
    expect(left).toBe(true);
  });
});
