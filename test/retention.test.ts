// Nothing grows without bound (DESIGN.md "Limits and hardening"): each retention, proved pruned.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { hubFor } from '../worker/hub/hub-client';
import { escalate, waitFor } from './escalation-helpers';
import { call, createSession, json, makeUser, type TestUser, withDb } from './helpers';
import { linearGraph, runGraph, waitForStatus } from './runs-helpers';

const hubSql = <T>(user: TestUser, fn: (sql: SqlStorage, storage: DurableObjectStorage) => T) =>
  runInDurableObject(hubFor(env, user.acct), (_hub, state) => fn(state.storage.sql, state.storage));

/** Runs the hub's alarm until `done` holds (jobs made due by the test). */
async function drainUntil(user: TestUser, done: () => Promise<boolean>, what: string) {
  await waitFor(
    async () => {
      await runDurableObjectAlarm(hubFor(env, user.acct));
      return (await done()) ? true : undefined;
    },
    what,
    10_000,
  );
}

describe('retention', () => {
  it("drops a finished run's log, topic row, registry row and timers from the hub once Postgres has it", async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, linearGraph, { name: 'Ada' });
    await waitForStatus(alice, run.run_id, 'completed');
    const topic = `run:${run.run_id}`;
    const held = () =>
      hubSql(alice, (s) => ({
        topics: s.exec('select count(*) as n from topics where topic = ?', topic).one().n,
        events: s.exec('select count(*) as n from events where topic = ?', topic).one().n,
        runs: s.exec('select count(*) as n from runs where id = ?', run.run_id).one().n,
        // The per-node checkpoints stay 7 days for reruns (their own job); every other timer goes.
        jobs: s
          .exec(
            `select count(*) as n from jobs where id like ? and id not like 'run-checkpoints:%'`,
            `%${run.run_id}`,
          )
          .one().n,
      }));
    const before = await held();
    expect(before.topics).toBe(1);
    expect(before.events).toBeGreaterThan(5);
    // The purge goes only once Postgres has the run's end (no `run-sync` job left); made due before
    // that, it moves itself a minute ahead. Regression: under load the sync was still pending here
    // and the test timed out waiting for the purge.
    await drainUntil(
      alice,
      async () =>
        (
          await hubSql(alice, (s) =>
            s.exec('select count(*) as n from jobs where id = ?', `run-sync:${run.run_id}`).one(),
          )
        ).n === 0,
      'the run’s sync to Postgres',
    );
    // The purge is due a day after the end; the test moves it to now instead of waiting.
    await hubSql(alice, (s) => s.exec('update jobs set run_at = 0 where id = ?', `run-purge:${run.run_id}`));
    await drainUntil(alice, async () => (await held()).topics === 0, 'the run purge');
    expect(await held()).toEqual({ topics: 0, events: 0, runs: 0, jobs: 0 });
    // Postgres still answers for it.
    const view = await json<{ status: string }>(await call(`/v1/runs/${run.run_id}/status`, alice));
    expect(view.status).toBe('completed');
  });

  it('prunes acknowledged outbox rows and Idempotency-Keys older than 24 h, after activity, and keeps the rest', async () => {
    const alice = await makeUser();
    const session = await createSession(alice);
    const old = await escalate(alice, { sessionId: session.id, key: 'old-key' });
    const fresh = await escalate(alice, { sessionId: session.id, key: 'fresh-key' });
    // Both published and acknowledged (after the answers, from waitUntil).
    await waitFor(
      () =>
        withDb(async (db) => {
          const r = await db.execute<{ n: number }>(
            sql`select count(*)::int as n from outbox where account_id = ${alice.acct}::uuid and published_at is null`,
          );
          return r.rows[0]?.n === 0 ? true : undefined;
        }),
      'the outbox acknowledgements',
    );
    // Age the first handoff and its events by two days; add an old row the hub never acknowledged.
    await withDb(async (db) => {
      await db.execute(
        sql`update handoffs set created_at = created_at - interval '2 days' where id = ${old.id}::uuid`,
      );
      await db.execute(
        sql`update outbox set created_at = created_at - interval '2 days', published_at = published_at - interval '2 days'
            where account_id = ${alice.acct}::uuid and payload->'card'->>'id' = ${old.id}`,
      );
      await db.execute(sql`insert into outbox (account_id, topic, event_type, payload, created_at)
        values (${alice.acct}::uuid, 'escalations', 'escalation.created', '{}'::jsonb, now() - interval '2 days')`);
    });
    const snapshot = () =>
      withDb(async (db) => {
        const r = await db.execute<{
          acked_old: number;
          unacked_old: number;
          fresh: number;
          keys: string[];
        }>(sql`
          select (select count(*) from outbox where account_id = ${alice.acct}::uuid and published_at < now() - interval '24 hours')::int as acked_old,
                 (select count(*) from outbox where account_id = ${alice.acct}::uuid and published_at is null)::int as unacked_old,
                 (select count(*) from outbox where account_id = ${alice.acct}::uuid and published_at > now() - interval '24 hours')::int as fresh,
                 (select coalesce(array_agg(coalesce(idempotency_key, '-') order by created_at), '{}') from handoffs where account_id = ${alice.acct}::uuid) as keys`);
        return r.rows[0];
      });
    const before = await snapshot();
    expect(before?.acked_old).toBeGreaterThan(0);
    expect(before?.keys).toEqual(['old-key', 'fresh-key']);
    // The hub pruned after the first event already, so the next prune waits for an hour of
    // activity; the test moves that mark back instead of waiting.
    await hubSql(alice, (_s, storage) => storage.kv.delete('escalations:prune-postgres-at'));
    // No activity, no prune: nothing is scheduled on a timer of its own.
    expect(
      await hubSql(
        alice,
        (s) => s.exec(`select count(*) as n from jobs where kind = 'prune-postgres'`).one().n,
      ),
    ).toBe(0);
    // Activity (a card change published through the outbox) schedules it; the alarm runs it.
    await call(`/v1/handoffs/${fresh.id}/pickup`, alice, { method: 'POST' });
    await drainUntil(alice, async () => (await snapshot())?.acked_old === 0, 'the Postgres prune');
    const after = await snapshot();
    expect(after?.unacked_old).toBe(1);
    expect(after?.fresh).toBeGreaterThan(0);
    // The key is forgotten, the handoff stays; a new request with that key is a new handoff.
    expect(after?.keys).toEqual(['-', 'fresh-key']);
    const again = await escalate(alice, { sessionId: session.id, key: 'old-key' });
    expect(again.id).not.toBe(old.id);
    const replay = await escalate(alice, { sessionId: session.id, key: 'fresh-key' });
    expect(replay.id).toBe(fresh.id);
    // And the job does not stay behind as a recurring timer.
    expect(
      await hubSql(
        alice,
        (s) => s.exec(`select count(*) as n from jobs where kind = 'prune-postgres'`).one().n,
      ),
    ).toBe(0);
  });
});
