import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { app } from '../worker/app';
import { type RunRow, runs } from '../worker/db/schema';
import { DEFAULT_MAX_STATE_BYTES, DEFAULT_MAX_STEPS } from '../worker/graphs/executor';
import { hubFor } from '../worker/hub/hub-client';
import { JobQueue } from '../worker/hub/job-queue';
import { RunRegistry } from '../worker/runs/registry';
import { MAX_RUN_LOG_BYTES } from '../worker/runs/run-types';
import { waitFor } from './escalation-helpers';
import { call, json, makeUser, type TestUser, withDb } from './helpers';
import {
  createGraph,
  httpBase,
  humanGraph,
  linearGraph,
  type RunView,
  runGraph,
  runLog,
  type Started,
  status,
  waitForStatus,
} from './runs-helpers';

async function pgRow(runId: string): Promise<RunRow | undefined> {
  const [row] = await withDb((db) => db.select().from(runs).where(eq(runs.id, runId)));
  return row;
}

/** Waits until Postgres (not the hub's overlay) has the run in `wanted` status. */
const waitForPostgres = (runId: string, wanted: string) =>
  waitFor(
    async () => {
      const row = await pgRow(runId);
      return row?.status === wanted ? row : undefined;
    },
    `run ${runId} to be ${wanted} in Postgres`,
    10_000,
  );

const resume = (user: TestUser, runId: string, input: unknown) =>
  call(`/v1/runs/${runId}/resume`, user, { body: { input } });

/** `x` copied onto itself forever: a branch that never matches, default back to the node. */
const selfLoop = (set: Record<string, unknown>) => ({
  entry: 'a',
  nodes: [{ id: 'a', type: 'transform', set }],
  edges: [
    {
      from: 'a',
      branches: [{ when: { field_equals: { field: 'x', value: 'never' } }, to: '__end__' }],
      default: 'a',
    },
  ],
});

const logBytes = (log: { data: unknown }[]) =>
  log.reduce((n, e) => n + new TextEncoder().encode(JSON.stringify(e.data)).byteLength, 0);

/** Starts a run with the hub binding replaced, as a deployment whose hub calls misbehave. */
async function startWithHub(
  user: TestUser,
  graphId: string,
  wrap: (stub: ReturnType<typeof hubFor>) => Record<string, unknown>,
): Promise<Response> {
  const namespace = {
    idFromName: (name: string) => env.ACCOUNT_HUB.idFromName(name),
    get: (id: DurableObjectId) => wrap(env.ACCOUNT_HUB.get(id)),
  };
  const ctx = createExecutionContext();
  const res = await app.request(
    `/v1/graphs/${graphId}/run`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: {} }),
    },
    { ...env, ACCOUNT_HUB: namespace },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe('graph runs: limits on steps, state and log', () => {
  it('stops a self-looping graph with a 60 KB state at the run log limit, instead of logging 60 MB', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, selfLoop({ x: '{{x}}' }), { x: 'y'.repeat(60_000) });
    const view = await waitForStatus(alice, run.run_id, 'failed', 20_000);
    expect(view.error).toEqual({ code: 'node_failed', message: expect.stringContaining('run log limit') });
    const log = await runLog(alice, run.run_id);
    // Far fewer than the step limit's 1,000 snapshots, and within the budget (the start and the
    // terminal event aside).
    const completed = log.filter((e) => e.type === 'node_completed').length;
    expect(completed).toBeGreaterThan(10);
    expect(completed).toBeLessThan(DEFAULT_MAX_STEPS / 2);
    expect(logBytes(log)).toBeLessThan(MAX_RUN_LOG_BYTES + 2 * 61_000);
    expect(log.at(-1)?.type).toBe('error');
    expect((await waitForPostgres(run.run_id, 'failed')).errorCode).toBe('node_failed');
  });

  it('fails a small self-looping graph with node_failed at the step limit', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, selfLoop({ x: '{{x}}' }), { x: 'y' });
    const view = await waitForStatus(alice, run.run_id, 'failed', 20_000);
    expect(view.error).toEqual({
      code: 'node_failed',
      message: expect.stringContaining(`step limit (${DEFAULT_MAX_STEPS} steps)`),
    });
    const log = await runLog(alice, run.run_id);
    expect(log.filter((e) => e.type === 'node_completed')).toHaveLength(DEFAULT_MAX_STEPS);
  });

  it('counts steps across pauses and resumes: a run over the step limit fails though no stretch alone is', async () => {
    const alice = await makeUser();
    // ask → n1 → … → n199 → ask: each resume runs 200 steps, well under the limit by itself.
    const chain = Array.from({ length: 199 }, (_, i) => `n${i + 1}`);
    const schema = {
      entry: 'ask',
      nodes: [
        { id: 'ask', type: 'human_input', prompt: 'again?', output_key: 'answer' },
        ...chain.map((id) => ({ id, type: 'transform', set: { at: id } })),
      ],
      edges: [{ from: 'ask', to: 'n1' }, ...chain.map((id, i) => ({ from: id, to: chain[i + 1] ?? 'ask' }))],
    };
    const { run } = await runGraph(alice, schema);
    await waitForStatus(alice, run.run_id, 'paused');
    const perResume = chain.length + 1;
    const fits = DEFAULT_MAX_STEPS / perResume - 1;
    for (let i = 1; i <= fits; i++) {
      expect((await resume(alice, run.run_id, i)).status).toBe(202);
      await waitForStatus(alice, run.run_id, 'paused', 15_000);
    }
    expect((await resume(alice, run.run_id, 'last')).status).toBe(202);
    const view = await waitForStatus(alice, run.run_id, 'failed', 15_000);
    expect(view.error).toEqual({ code: 'node_failed', message: expect.stringContaining('step limit') });
    const log = await runLog(alice, run.run_id);
    expect(log.filter((e) => e.type === 'node_completed')).toHaveLength(DEFAULT_MAX_STEPS);
  });

  it('fails a node that would grow the state past RUN_STATE_MAX_BYTES with node_failed naming it (not internal SQLITE_TOOBIG)', async () => {
    const alice = await makeUser();
    // Each node copies a 30 KB value under a new key: with the input, the 8th copy is ~270 KB,
    // over 256 KiB; left alone the state would reach SQLite's 2 MB value limit a few nodes later.
    const ids = Array.from({ length: 12 }, (_, i) => `c${i + 1}`);
    const schema = {
      entry: 'c1',
      nodes: ids.map((id) => ({ id, type: 'transform', set: { [`copy_${id}`]: '{{x}}' } })),
      edges: ids.map((id, i) => ({ from: id, to: ids[i + 1] ?? '__end__' })),
    };
    const { run } = await runGraph(alice, schema, { x: 'y'.repeat(30_000) });
    const view = await waitForStatus(alice, run.run_id, 'failed', 15_000);
    expect(view.error).toEqual({
      code: 'node_failed',
      message: expect.stringMatching(
        new RegExp(
          `^node "c8" would make the run state \\d+ bytes, over the state limit RUN_STATE_MAX_BYTES \\(${DEFAULT_MAX_STATE_BYTES} bytes, 256 KiB\\)$`,
        ),
      ),
    });
    const log = await runLog(alice, run.run_id);
    expect(log.filter((e) => e.type === 'node_completed')).toHaveLength(7);
    expect((await waitForPostgres(run.run_id, 'failed')).errorCode).toBe('node_failed');
  });

  it('fails a node whose rendered template would pass TEMPLATE_MAX_BYTES, with node_failed naming it', async () => {
    const alice = await makeUser();
    // Doubles every step: 20 KB fits, 40 KB is over 32 KiB and is never built, logged or stored.
    const { run } = await runGraph(alice, selfLoop({ x: '{{x}}{{x}}' }), { x: 'y'.repeat(10_000) });
    const view = await waitForStatus(alice, run.run_id, 'failed', 15_000);
    expect(view.error).toEqual({
      code: 'node_failed',
      message:
        'node "a" would render a template over the template limit TEMPLATE_MAX_BYTES (32768 bytes, 32 KiB)',
    });
    const log = await runLog(alice, run.run_id);
    const sizes = log
      .filter((e) => e.type === 'node_completed')
      .map((e) => (e.data as { state: { x: string } }).state.x.length);
    expect(sizes).toEqual([20_000]);
    expect(log.at(-1)).toMatchObject({ type: 'error', data: { code: 'node_failed' } });
  });

  it('fails a tool whose output nests too deeply with node_failed naming the state limit', async () => {
    const alice = await makeUser();
    const schema = {
      entry: 'get',
      nodes: [
        { id: 'get', type: 'tool', tool: 'http_get', args: { url: `${httpBase}/deep/500` }, output_key: 'r' },
      ],
      edges: [{ from: 'get', to: '__end__' }],
    };
    const { run } = await runGraph(alice, schema);
    const view = await waitForStatus(alice, run.run_id, 'failed');
    expect(view.error).toEqual({ code: 'node_failed', message: expect.stringContaining('the state limit') });
    expect((await waitForPostgres(run.run_id, 'failed')).errorCode).toBe('node_failed');
  });
});

describe('graph runs: NUL characters', () => {
  it('strips NUL from an http_get body: the run completes and Postgres records it completed', async () => {
    const alice = await makeUser();
    const schema = {
      entry: 'json',
      nodes: [
        {
          id: 'json',
          type: 'tool',
          tool: 'http_get',
          args: { url: `${httpBase}/nul/json` },
          output_key: 'j',
        },
        {
          id: 'text',
          type: 'tool',
          tool: 'http_get',
          args: { url: `${httpBase}/nul/text` },
          output_key: 't',
        },
        { id: 'say', type: 'llm', prompt: 'Summarise {{t}}', output_key: 'said' },
      ],
      edges: [
        { from: 'json', to: 'text' },
        { from: 'text', to: 'say' },
        { from: 'say', to: '__end__' },
      ],
    };
    const { run } = await runGraph(alice, schema);
    const row = await waitForPostgres(run.run_id, 'completed');
    const state = row.state as Record<string, { body: unknown }>;
    expect(state.j?.body).toEqual({ text: 'ab', key: ['x'] });
    expect(state.t?.body).toBe('ab');
    expect(JSON.stringify(row.state)).not.toContain('\\u0000');
    expect(row.endedAt).not.toBeNull();
    // And the API agrees.
    expect((await status(alice, run.run_id)).status).toBe('completed');
  });

  it('writes a cleaned copy when Postgres refuses a run record (22P05), instead of retrying run-sync forever', async () => {
    const alice = await makeUser();
    const hub = hubFor(env, alice.acct);
    const { run } = await runGraph(alice, humanGraph);
    await waitForPostgres(run.run_id, 'paused');
    // A NUL that got into the hub's record by a path that does not clean (as a resume body did
    // before the boundary refused it): the next sync would be refused by jsonb and text columns.
    const version = await runInDurableObject(hub, (_h, state) => {
      const registry = new RunRegistry(state.storage.sql);
      const current = registry.get(run.run_id);
      if (!current) throw new Error('run not in the registry');
      const updated = registry.update(run.run_id, {
        checkpoint: { ...current.checkpoint, state: { note: 'a\u0000b', 'k\u0000': 1 } },
        pausedPrompt: 'Which\u0000 product?',
      });
      new JobQueue(state.storage.sql).upsert(`run-sync:${run.run_id}`, 'run-sync', { runId: run.run_id }, 0);
      return updated.version;
    });
    await runDurableObjectAlarm(hub);
    const row = await waitFor(async () => {
      const r = await pgRow(run.run_id);
      return r && r.hubVersion === version ? r : undefined;
    }, 'the cleaned record in Postgres');
    expect(row.state).toEqual({ note: 'ab', k: 1 });
    expect(row.pausedPrompt).toBe('Which product?');
    const pending = await runInDurableObject(hub, (_h, state) =>
      new JobQueue(state.storage.sql).get(`run-sync:${run.run_id}`),
    );
    expect(pending).toBeUndefined();
  });
});

describe('graph runs: start and cancel races', () => {
  it('answers 202 (no duplicate, not failed) when the start call errors after the hub committed the run', async () => {
    const alice = await makeUser();
    const graph = await createGraph(alice, linearGraph);
    const res = await startWithHub(alice, graph.id, (stub) => ({
      startRun: async (req: Parameters<typeof stub.startRun>[0]) => {
        await stub.startRun(req);
        throw new Error('Network connection lost.');
      },
      runSnapshot: (id: string) => stub.runSnapshot(id),
    }));
    expect(res.status).toBe(202);
    const started = await json<Started>(res);
    const done = await waitForStatus(alice, started.run_id, 'completed');
    expect(done.error).toBeNull();
    expect((await waitForPostgres(started.run_id, 'completed')).errorCode).toBeNull();
    const listed = await json<{ items: RunView[] }>(await call('/v1/runs', alice));
    expect(listed.items.map((r) => r.id)).toEqual([started.run_id]);
  });

  it('still answers 503 and ends the row when the hub never got the start', async () => {
    const alice = await makeUser();
    const graph = await createGraph(alice, linearGraph);
    const res = await startWithHub(alice, graph.id, (stub) => ({
      startRun: async () => {
        throw new Error('Network connection lost.');
      },
      runSnapshot: (id: string) => stub.runSnapshot(id),
    }));
    expect(res.status).toBe(503);
    const listed = await json<{ items: RunView[] }>(await call('/v1/runs', alice));
    expect(listed.items.map((r) => [r.status, r.error?.code])).toEqual([['failed', 'internal']]);
  });

  it('never resurrects a run cancelled before its start reached the hub', async () => {
    const alice = await makeUser();
    const graph = await createGraph(alice, linearGraph);
    let cancelStatus = 0;
    const res = await startWithHub(alice, graph.id, (stub) => ({
      startRun: async (req: Parameters<typeof stub.startRun>[0]) => {
        // A colleague cancels the queued run (seen in the list) before the start arrives.
        cancelStatus = (await call(`/v1/runs/${req.runId}/cancel`, alice, { method: 'POST' })).status;
        return stub.startRun(req);
      },
      runSnapshot: (id: string) => stub.runSnapshot(id),
    }));
    expect(cancelStatus).toBe(202);
    expect(res.status).toBe(202);
    const started = await json<Started>(res);
    expect(started.status).toBe('cancelled');
    // The hub refused the start: it has no run, so nothing executes or syncs it back to running.
    const hub = hubFor(env, alice.acct);
    expect(await hub.runSnapshot(started.run_id)).toBeNull();
    expect(await runLog(alice, started.run_id)).toEqual([]);
    const row = await pgRow(started.run_id);
    expect(row).toMatchObject({ status: 'cancelled', errorCode: 'cancelled' });
    expect((await status(alice, started.run_id)).status).toBe('cancelled');
    // A second start for the same id is refused too.
    const again = await hub.startRun({
      runId: started.run_id,
      accountId: alice.acct,
      userId: alice.sub,
      graphId: graph.id,
      graphVersion: 1,
      graph: graph.schema as never,
      input: {},
      limits: { perUser: 5, perAccount: 50, pausedPerAccount: 1000 },
      runTimeoutSeconds: 300,
      pauseTimeoutSeconds: 86_400,
    });
    expect(again).toEqual({ ok: false, reason: 'cancelled' });
  });
});
