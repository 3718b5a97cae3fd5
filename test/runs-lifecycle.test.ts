import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { runs } from '../worker/db/schema';
import { hubFor } from '../worker/hub/hub-client';
import { waitFor } from './escalation-helpers';
import { call, colleague, expectError, json, makeUser, type TestUser, withDb } from './helpers';
import {
  callWith,
  countOf,
  createGraph,
  httpBase,
  humanGraph,
  linearGraph,
  openRunStream,
  readToEnd,
  runGraph,
  runLog,
  slowGraph,
  startRun,
  status,
  waitForStatus,
} from './runs-helpers';

const cancel = (user: TestUser, runId: string) => call(`/v1/runs/${runId}/cancel`, user, { method: 'POST' });

describe('graph runs: lifecycle', () => {
  it('cancels a running run, aborting the in-flight call, and every open stream gets the terminal event once', async () => {
    const alice = await makeUser();
    const bob = await colleague(alice);
    const { run } = await runGraph(alice, slowGraph(30_000, 2));
    const readers = await Promise.all([openRunStream(alice, run.run_id), openRunStream(bob, run.run_id)]);
    for (const r of readers)
      expect((await r.events(2)).map((f) => f.event)).toEqual(['run_started', 'node_started']);
    // Bob may stream Alice's run but not cancel it (only its starter or an admin may).
    await expectError(await cancel(bob, run.run_id), 403, 'forbidden');
    const res = await cancel(alice, run.run_id);
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({ run_id: run.run_id, status: 'cancelled' });
    for (const r of readers) {
      const rest = await readToEnd(r);
      expect(rest).toEqual([
        { id: 3, event: 'error', data: { code: 'cancelled', message: 'cancelled by a user' } },
      ]);
      expect(await r.next(500)).toBeUndefined();
    }
    const view = await waitForStatus(alice, run.run_id, 'cancelled');
    expect(view.error?.code).toBe('cancelled');
    // The aborted node never completes and nothing follows the terminal event.
    const log = await runLog(alice, run.run_id);
    expect(log.map((e) => e.type)).toEqual(['run_started', 'node_started', 'error']);
    await expectError(await cancel(alice, run.run_id), 409, 'run_ended');
  });

  it('cancels a paused run; it cannot be resumed afterwards', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, humanGraph);
    await waitForStatus(alice, run.run_id, 'paused');
    expect((await cancel(alice, run.run_id)).status).toBe(202);
    const frames = await readToEnd(await openRunStream(alice, run.run_id));
    expect(frames.at(-1)).toMatchObject({ event: 'error', data: { code: 'cancelled' } });
    expect((await waitForStatus(alice, run.run_id, 'cancelled')).paused).toBeNull();
    await expectError(
      await call(`/v1/runs/${run.run_id}/resume`, alice, { body: { input: 'late' } }),
      409,
      'not_paused',
    );
  });

  it('times out a run that is active longer than RUN_TIMEOUT_SECONDS', async () => {
    const alice = await makeUser();
    const graph = await createGraph(alice, slowGraph(30_000));
    const run = await startRun(alice, graph.id, {}, { RUN_TIMEOUT_SECONDS: '1' });
    const frames = await readToEnd(await openRunStream(alice, run.run_id), 10_000);
    expect(frames.at(-1)).toMatchObject({ event: 'error', data: { code: 'timeout' } });
    const view = await waitForStatus(alice, run.run_id, 'timed_out');
    expect(view.error?.code).toBe('timeout');
  });

  it('times out a pause longer than PAUSE_TIMEOUT_SECONDS', async () => {
    const alice = await makeUser();
    const graph = await createGraph(alice, humanGraph);
    const run = await startRun(alice, graph.id, {}, { PAUSE_TIMEOUT_SECONDS: '1' });
    const frames = await readToEnd(await openRunStream(alice, run.run_id), 10_000);
    expect(frames.map((f) => f.event)).toEqual(['run_started', 'node_started', 'graph_paused', 'error']);
    expect(frames.at(-1)?.data).toMatchObject({ code: 'pause_timeout' });
    expect((await waitForStatus(alice, run.run_id, 'timed_out')).error?.code).toBe('pause_timeout');
  });

  it('limits active runs per user with a 429 and Retry-After; paused runs hold no slot', async () => {
    const alice = await makeUser();
    const limits = { MAX_RUNS_PER_KEY: '2' };
    const slow = await createGraph(alice, slowGraph(30_000));
    const human = await createGraph(alice, humanGraph);
    // A paused run holds no slot.
    const paused = await startRun(alice, human.id, {}, limits);
    await waitForStatus(alice, paused.run_id, 'paused');
    const a = await startRun(alice, slow.id, {}, limits);
    const b = await startRun(alice, slow.id, {}, limits);
    const refused = await callWith(limits, `/v1/graphs/${slow.id}/run`, alice, { body: { input: {} } });
    const err = await expectError(refused, 429, 'too_many_runs');
    expect(err.details).toEqual({ scope: 'user', limit: 2 });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The refused run left nothing behind.
    const listed = await json<{ items: unknown[] }>(await call('/v1/runs', alice));
    expect(listed.items).toHaveLength(3);
    // A colleague has slots of their own; resuming needs one.
    const bob = await colleague(alice);
    await startRun(bob, slow.id, {}, limits).then((r) => cancel(bob, r.run_id));
    await expectError(
      await callWith(limits, `/v1/runs/${paused.run_id}/resume`, alice, { body: { input: 1 } }),
      429,
      'too_many_runs',
    );
    // A slot frees when a run ends.
    await cancel(alice, a.run_id);
    const c = await startRun(alice, slow.id, {}, limits);
    for (const r of [b, c, paused]) await cancel(alice, r.run_id);
  });

  it('limits active runs per account', async () => {
    const alice = await makeUser();
    const bob = await colleague(alice);
    const carol = await colleague(alice);
    const limits = { MAX_RUNS_PER_ACCOUNT: '2' };
    const slow = await createGraph(alice, slowGraph(30_000));
    const a = await startRun(alice, slow.id, {}, limits);
    const b = await startRun(bob, slow.id, {}, limits);
    const refused = await callWith(limits, `/v1/graphs/${slow.id}/run`, carol, { body: { input: {} } });
    expect((await expectError(refused, 429, 'too_many_runs')).details).toEqual({
      scope: 'account',
      limit: 2,
    });
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    // Another account is not affected.
    const other = await makeUser();
    const theirs = await createGraph(other, slowGraph(30_000));
    const run = await startRun(other, theirs.id, {}, limits);
    for (const [u, r] of [
      [alice, a],
      [bob, b],
      [other, run],
    ] as const)
      await cancel(u, r.run_id);
  });

  it('continues from its last checkpoint after the hub restarts: each finished node ran exactly once (counted by a loopback server)', async () => {
    const alice = await makeUser();
    const hub = hubFor(env, alice.acct);
    // Each node is an http_get whose request the loopback server counts: the log de-duplicates
    // by step key, so only a side effect outside the hub can show a node that ran twice.
    const tag = crypto.randomUUID();
    const ids = ['n0', 'n1', 'n2', 'n3'];
    const schema = {
      entry: 'n0',
      nodes: ids.map((id) => ({
        id,
        type: 'tool',
        tool: 'http_get',
        args: { url: `${httpBase}/count/${tag}-${id}?delay_ms=300` },
        output_key: `out${id.slice(1)}`,
      })),
      edges: ids.map((id, i) => ({ from: id, to: ids[i + 1] ?? '__end__' })),
    };
    const { run } = await runGraph(alice, schema);
    const reader = await openRunStream(alice, run.run_id);
    // Wait until the first node finished and the second is in flight, then restart the hub.
    const seen = await reader.events(5);
    expect(seen.map((f) => f.event)).toEqual([
      'run_started',
      'node_started',
      'node_completed',
      'edge_traversed',
      'node_started',
    ]);
    await reader.close();
    // A hard restart: evictDurableObject would wait for the in-flight node to drain, so the hub
    // is reset the way a crash resets it (workerd prints the abort as an uncaught exception).
    await runInDurableObject(hub, (_h, state) => state.abort('simulated restart')).catch(() => undefined);
    // Whatever wakes the hub (here a status read) finds the orphaned run and resumes it.
    const done = await waitForStatus(alice, run.run_id, 'completed', 15_000);
    expect(Object.keys(done.final_state ?? {}).sort()).toEqual(['out0', 'out1', 'out2', 'out3']);
    const requests = (id: string) => countOf(`${tag}-${id}`);
    // n0 finished before the restart and never ran again; n2 and n3 ran once, after it. n1 was
    // in flight: its effect was never recorded, so it runs again (once or twice in all).
    expect(await requests('n0')).toBe(1);
    expect(await requests('n2')).toBe(1);
    expect(await requests('n3')).toBe(1);
    expect(await requests('n1')).toBeGreaterThanOrEqual(1);
    expect(await requests('n1')).toBeLessThanOrEqual(2);
    const log = await runLog(alice, run.run_id);
    const count = (type: string) => {
      const by: Record<string, number> = {};
      for (const e of log)
        if (e.type === type)
          by[(e.data as { node_id: string }).node_id] =
            (by[(e.data as { node_id: string }).node_id] ?? 0) + 1;
      return by;
    };
    expect(count('node_started')).toEqual({ n0: 1, n1: 1, n2: 1, n3: 1 });
    expect(count('node_completed')).toEqual({ n0: 1, n1: 1, n2: 1, n3: 1 });
    expect(log.filter((e) => e.type === 'graph_completed')).toHaveLength(1);
    expect(log.map((e) => e.id)).toEqual(log.map((_, i) => i + 1));
    // A stream from the start shows one coherent history.
    const replay = await readToEnd(await openRunStream(alice, run.run_id));
    expect(replay.map((f) => f.id)).toEqual(log.map((e) => e.id));
  });

  it('keeps a paused run across a hub restart and resumes it', async () => {
    const alice = await makeUser();
    const hub = hubFor(env, alice.acct);
    const { run } = await runGraph(alice, humanGraph, { name: 'Ada' });
    await waitForStatus(alice, run.run_id, 'paused');
    // A hard reset: a graceful evictDurableObject waits for every outbound socket of the hub to
    // drain, and against the embedded PGlite the Neon driver's socket lingers past the test's bound.
    await runInDurableObject(hub, (_h, state) => state.abort('simulated restart')).catch(() => undefined);
    expect((await status(alice, run.run_id)).paused).toEqual({
      node_id: 'ask',
      prompt: 'Which product, Ada?',
    });
    expect((await call(`/v1/runs/${run.run_id}/resume`, alice, { body: { input: 'vpn' } })).status).toBe(202);
    const done = await waitForStatus(alice, run.run_id, 'completed');
    expect(done.final_state).toEqual({ name: 'Ada', product: 'vpn', routed: true });
  });

  it('sends the terminal event from Postgres for a finished run whose log was purged', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, linearGraph, { name: 'Ada' });
    const live = await readToEnd(await openRunStream(alice, run.run_id));
    const terminal = live.at(-1);
    await waitFor(
      async () =>
        (await json<{ items: { status: string }[] }>(await call('/v1/runs', alice))).items[0]?.status ===
        'completed'
          ? true
          : undefined,
      'the run record in Postgres',
    );
    // Age the run's log out: its purge job made due now, run by the alarm. Made due on each try:
    // Postgres may show the run completed just before the hub drops its `run-sync` job, and a
    // purge that finds that job still there moves itself a minute ahead (the race retention.test
    // once lost under load).
    const hub = hubFor(env, alice.acct);
    await waitFor(async () => {
      await runInDurableObject(hub, (_h, state) => {
        state.storage.sql.exec('update jobs set run_at = 0 where id = ?', `run-purge:${run.run_id}`);
      });
      await runDurableObjectAlarm(hub);
      return (await runLog(alice, run.run_id)).length === 0 ? true : undefined;
    }, 'purge');

    const reader = await openRunStream(alice, run.run_id);
    const frames = await readToEnd(reader);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ event: 'graph_completed', data: terminal?.data });
    expect(await reader.next(500)).toBeUndefined();
    // Status still answers, from Postgres.
    expect((await status(alice, run.run_id)).final_state).toEqual(
      (terminal?.data as { final_state: unknown } | undefined)?.final_state,
    );
  });

  it('ends a run its hub lost as `lost`, in the status and on the stream', async () => {
    const alice = await makeUser();
    const graph = await createGraph(alice, linearGraph);
    const [row] = await withDb((db) =>
      db
        .insert(runs)
        .values({
          accountId: alice.acct,
          graphId: graph.id,
          graphVersion: 1,
          startedBy: alice.sub,
          status: 'running',
          input: {},
          runTimeoutSeconds: 300,
          pauseTimeoutSeconds: 86_400,
          hubVersion: 3,
          startedAt: new Date(Date.now() - 3_600_000),
        })
        .returning(),
    );
    const id = row?.id ?? '';
    const frames = await readToEnd(await openRunStream(alice, id));
    expect(frames).toEqual([
      { event: 'error', data: { code: 'lost', message: expect.stringContaining('lost') } },
    ]);
    const view = await status(alice, id);
    expect(view).toMatchObject({ status: 'failed', error: { code: 'lost' } });
    expect(view.ended_at).not.toBeNull();
  });

  it('rejects bad resume bodies with JSON errors', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, humanGraph);
    await waitForStatus(alice, run.run_id, 'paused');
    const path = `/v1/runs/${run.run_id}/resume`;
    await expectError(await call(path, alice, { body: '{"input": ' }), 400, 'malformed_json');
    await expectError(
      await call(path, alice, { body: 'input=1', headers: { 'content-type': 'text/plain' } }),
      415,
    );
    await expectError(
      await call(path, alice, { body: { input: 'x'.repeat(70_000) } }),
      413,
      'payload_too_large',
    );
    await expectError(await call(path, alice, { body: {} }), 400, 'validation_failed');
    await expectError(await call(path, alice, { body: { input: 1, extra: true } }), 400, 'validation_failed');
    await expectError(await call(path, alice, { body: [1] }), 400, 'validation_failed');
    await expectError(await call(path, alice, { method: 'POST' }), 400, 'validation_failed');
    // Still paused, and resumable.
    expect((await status(alice, run.run_id)).status).toBe('paused');
    expect((await call(path, alice, { body: { input: 'ok' } })).status).toBe(202);
    // A bad start body too.
    const graph = await createGraph(alice, humanGraph);
    await expectError(
      await call(`/v1/graphs/${graph.id}/run`, alice, { body: { input: 'x' } }),
      400,
      'validation_failed',
    );
  });

  it("answers another account's run with a 404, and keeps viewers read-only", async () => {
    const alice = await makeUser();
    const mallory = await makeUser();
    const viewer = await colleague(alice, 'viewer');
    const { graph, run } = await runGraph(alice, humanGraph);
    await waitForStatus(alice, run.run_id, 'paused');
    for (const [path, method] of [
      [`/v1/runs/${run.run_id}/status`, 'GET'],
      [`/v1/runs/${run.run_id}/stream`, 'GET'],
      [`/v1/runs/${run.run_id}/cancel`, 'POST'],
    ] as const) {
      await expectError(await call(path, mallory, { method }), 404, 'not_found');
    }
    await expectError(
      await call(`/v1/runs/${run.run_id}/resume`, mallory, { body: { input: 1 } }),
      404,
      'not_found',
    );
    expect((await json<{ items: unknown[] }>(await call('/v1/runs', mallory))).items).toEqual([]);
    await expectError(await call(`/v1/runs/${crypto.randomUUID()}/status`, alice), 404);

    expect((await call(`/v1/runs/${run.run_id}/status`, viewer)).status).toBe(200);
    await expectError(await call(`/v1/runs/${run.run_id}/stream`, viewer), 403);
    await expectError(await call(`/v1/graphs/${graph.id}/run`, viewer, { body: { input: {} } }), 403);
    await expectError(await call(`/v1/runs/${run.run_id}/resume`, viewer, { body: { input: 1 } }), 403);
    await cancel(alice, run.run_id);
  });
});
