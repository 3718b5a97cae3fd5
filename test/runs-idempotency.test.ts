import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { runIdempotencyKeys } from '../worker/db/schema';
import { hubFor } from '../worker/hub/hub-client';
import { waitFor } from './escalation-helpers';
import { call, colleague, expectError, json, makeUser, type TestUser, withDb } from './helpers';
import { callWith, createGraph, humanGraph, type Started, slowGraph } from './runs-helpers';

const start = (
  user: TestUser,
  graphId: string,
  input: unknown,
  key?: string,
  overrides?: Record<string, string>,
) => {
  const opts = { body: { input }, ...(key ? { headers: { 'idempotency-key': key } } : {}) };
  return overrides
    ? callWith(overrides, `/v1/graphs/${graphId}/run`, user, opts)
    : call(`/v1/graphs/${graphId}/run`, user, opts);
};

const runIds = async (user: TestUser) =>
  (await json<{ items: { id: string }[] }>(await call('/v1/runs', user))).items.map((r) => r.id);

const keysOf = (user: TestUser) =>
  withDb((db) => db.select().from(runIdempotencyKeys).where(eq(runIdempotencyKeys.accountId, user.acct)));

describe('graph runs: idempotent start', () => {
  it('answers the same run for the same key and body, and 422 for the same key with another body', async () => {
    const alice = await makeUser();
    const graph = await createGraph(alice, humanGraph);
    const first = await start(alice, graph.id, { name: 'Ada', n: 1 }, 'key-1');
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const run = await json<Started>(first);
    // The same body, keys in another order: the same run, said so.
    const again = await start(alice, graph.id, { n: 1, name: 'Ada' }, 'key-1');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await json<Started>(again)).toMatchObject({ run_id: run.run_id, stream_url: run.stream_url });
    expect(await runIds(alice)).toEqual([run.run_id]);
    // Another body, or another graph, with the same key: refused.
    const err = await expectError(
      await start(alice, graph.id, { name: 'Bob', n: 1 }, 'key-1'),
      422,
      'idempotency_key_reused',
    );
    expect(err.message).toContain('different request');
    const other = await createGraph(alice, humanGraph);
    await expectError(
      await start(alice, other.id, { name: 'Ada', n: 1 }, 'key-1'),
      422,
      'idempotency_key_reused',
    );
    // A key is the caller's own: a colleague's same key is another run; no key, always a new run.
    const bob = await colleague(alice);
    const bobs = await json<Started>(await start(bob, graph.id, { name: 'Ada', n: 1 }, 'key-1'));
    expect(bobs.run_id).not.toBe(run.run_id);
    const plain = await json<Started>(await start(alice, graph.id, { name: 'Ada', n: 1 }));
    expect(plain.run_id).not.toBe(run.run_id);
    expect(await runIds(alice)).toHaveLength(3);
    await expectError(await start(alice, graph.id, {}, 'bad key with spaces'), 400, 'validation_failed');
  });

  it('starts one run for concurrent twins with the same key', async () => {
    const alice = await makeUser();
    const graph = await createGraph(alice, humanGraph);
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => start(alice, graph.id, { twin: true }, 'twins')),
    );
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);
    const ids = new Set(await Promise.all(answers.map(async (a) => (await json<Started>(a)).run_id)));
    expect(ids.size).toBe(1);
    expect(await runIds(alice)).toEqual([...ids]);
  });

  it('lets a key refused over a limit be used again', async () => {
    const alice = await makeUser();
    const limits = { MAX_RUNS_PER_KEY: '1' };
    const slow = await createGraph(alice, slowGraph(30_000));
    const busy = await json<Started>(await start(alice, slow.id, {}, undefined, limits));
    await expectError(await start(alice, slow.id, { a: 1 }, 'after-429', limits), 429, 'too_many_runs');
    expect(await keysOf(alice)).toEqual([]);
    await call(`/v1/runs/${busy.run_id}/cancel`, alice, { method: 'POST' });
    const retried = await start(alice, slow.id, { a: 1 }, 'after-429', limits);
    expect(retried.status).toBe(202);
    await call(`/v1/runs/${(await json<Started>(retried)).run_id}/cancel`, alice, { method: 'POST' });
  });

  it('forgets keys after 24 hours: a late repeat starts anew, and the hub job prunes them', async () => {
    const alice = await makeUser();
    const graph = await createGraph(alice, humanGraph);
    const old = await json<Started>(await start(alice, graph.id, { v: 1 }, 'old-key'));
    const fresh = await json<Started>(await start(alice, graph.id, { v: 2 }, 'fresh-key'));
    // The first keyed start armed the pruning job, a day (and a minute) out.
    const hub = hubFor(env, alice.acct);
    const pruneAt = () =>
      runInDurableObject(
        hub,
        (_h, state) =>
          state.storage.sql
            .exec<{ run_at: number }>("select run_at from jobs where id = 'run-idempotency-prune'")
            .toArray()[0]?.run_at,
      );
    expect((await pruneAt()) ?? 0).toBeGreaterThan(Date.now() + 23 * 3600_000);
    // Age one key past 24 hours.
    await withDb((db) =>
      db
        .update(runIdempotencyKeys)
        .set({ createdAt: sql`now() - interval '25 hours'` })
        .where(eq(runIdempotencyKeys.key, 'old-key')),
    );
    await runInDurableObject(hub, (_h, state) => {
      state.storage.sql.exec("update jobs set run_at = 0 where id = 'run-idempotency-prune'");
    });
    // The alarm runs the due job (an alarm already under way may take it instead: wait for it).
    await waitFor(async () => {
      await runDurableObjectAlarm(hub);
      return (await keysOf(alice)).length === 1 ? true : undefined;
    }, 'the expired key to be pruned');
    expect((await keysOf(alice)).map((k) => [k.key, k.runId])).toEqual([['fresh-key', fresh.run_id]]);
    // The job comes back when the fresh key expires.
    expect((await pruneAt()) ?? 0).toBeGreaterThan(Date.now() + 23 * 3600_000);
    // The pruned key is free: the same request starts a new run.
    const later = await json<Started>(await start(alice, graph.id, { v: 1 }, 'old-key'));
    expect(later.run_id).not.toBe(old.run_id);
    // A key past 24 hours that the job has not reached yet is not honoured either.
    await withDb((db) =>
      db
        .update(runIdempotencyKeys)
        .set({ createdAt: sql`now() - interval '25 hours'` })
        .where(eq(runIdempotencyKeys.key, 'fresh-key')),
    );
    const again = await json<Started>(await start(alice, graph.id, { v: 3 }, 'fresh-key'));
    expect(again.run_id).not.toBe(fresh.run_id);
    for (const id of await runIds(alice)) await call(`/v1/runs/${id}/cancel`, alice, { method: 'POST' });
  });
});
