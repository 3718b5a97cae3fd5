import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { hubFor } from '../worker/hub/hub-client';
import { waitFor } from './escalation-helpers';
import { call, expectError, json, makeUser, type TestUser } from './helpers';
import {
  countOf,
  createGraph,
  httpBase,
  openRunStream,
  readToEnd,
  runGraph,
  runLog,
  startRun,
  status,
  waitForStatus,
} from './runs-helpers';
import { dataOf } from './sse';

/** One http_get node against /flaky, with a retry policy. */
const flakyGraph = (key: string, query: string, retry: unknown, extra: Record<string, unknown> = {}) => ({
  entry: 'fetch',
  nodes: [
    {
      id: 'fetch',
      type: 'tool',
      tool: 'http_get',
      args: { url: `${httpBase}/flaky/${key}?${query}` },
      output_key: 'page',
      retry,
      ...extra,
    },
  ],
  edges: [{ from: 'fetch', to: '__end__' }],
});

/** A fresh user starts a run of `flakyGraph`; `key` is fresh too, so its request count is this run's. */
async function runFlaky(prefix: string, query: string, retry: unknown) {
  const alice = await makeUser();
  const key = `${prefix}-${crypto.randomUUID()}`;
  const { run } = await runGraph(alice, flakyGraph(key, query, retry));
  return { alice, key, run };
}

/** The run's watchdog job, which is also its wait between attempts. */
const watchdogJob = (user: TestUser, runId: string) =>
  runInDurableObject(hubFor(env, user.acct), (_h, state) =>
    state.storage.sql
      .exec<{ run_at: number; kind: string }>('select run_at, kind from jobs where id = ?', `run:${runId}`)
      .toArray()
      .at(0),
  );

/** Makes the run's next attempt due now and fires the alarm, instead of waiting for it. */
async function fireRetryNow(user: TestUser, runId: string) {
  const hub = hubFor(env, user.acct);
  await runInDurableObject(hub, (_h, state) => {
    state.storage.sql.exec('update jobs set run_at = 0 where id = ?', `run:${runId}`);
    state.storage.sql.exec(
      `update runs set checkpoint = json_set(checkpoint, '$.retry_at', 0) where id = ?`,
      runId,
    );
  });
  await runDurableObjectAlarm(hub);
}

/** The `created_at` the hub logged an event of `type` with. */
const loggedAt = (user: TestUser, runId: string, type: string) =>
  runInDurableObject(hubFor(env, user.acct), (_h, state) =>
    state.storage.sql
      .exec<{ created_at: number }>(
        'select created_at from events where topic = ? and type = ? order by id',
        `run:${runId}`,
        type,
      )
      .toArray()
      .map((r) => r.created_at),
  );

describe('graph runs: retries', () => {
  it('retries a flaky tool with backoff: node_retrying between attempts, then completes', async () => {
    const { alice, key, run } = await runFlaky('flaky', 'fail=2&status=503', {
      max_attempts: 3,
      initial_interval_ms: 50,
      backoff_coefficient: 2,
    });
    const frames = await readToEnd(await openRunStream(alice, run.run_id), 10_000);
    expect(frames.map((f) => f.event)).toEqual([
      'run_started',
      'node_started',
      'node_retrying',
      'node_started',
      'node_retrying',
      'node_started',
      'node_completed',
      'edge_traversed',
      'graph_completed',
    ]);
    const retrying = frames.filter((f) => f.event === 'node_retrying').map((f) => f.data);
    expect(retrying).toEqual([
      {
        node_id: 'fetch',
        attempt: 1,
        max_attempts: 3,
        error: expect.stringContaining('returned HTTP 503'),
        next_attempt_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
      expect.objectContaining({ attempt: 2, max_attempts: 3 }),
    ]);
    expect(frames.filter((f) => f.event === 'node_started').map((f) => f.data)).toEqual([
      { node_id: 'fetch' },
      { node_id: 'fetch', attempt: 2 },
      { node_id: 'fetch', attempt: 3 },
    ]);
    // Ids run on without a gap, every attempt logged once.
    expect(frames.map((f) => f.id)).toEqual(frames.map((_, i) => i + 1));
    expect(await countOf(key)).toBe(3);
    const done = await waitForStatus(alice, run.run_id, 'completed');
    expect(done.final_state).toMatchObject({ page: { status: 200, body: { key, n: 3 } } });
  });

  it('waits in the job table: the run holds no executor, and a hub restart during the wait keeps it', async () => {
    const { alice, key, run } = await runFlaky('wait', 'fail=1&status=500', {
      max_attempts: 2,
      initial_interval_ms: 600_000,
      max_interval_ms: 600_000,
    });
    const reader = await openRunStream(alice, run.run_id);
    const seen = await reader.events(3);
    expect(seen.map((f) => f.event)).toEqual(['run_started', 'node_started', 'node_retrying']);
    const next = Date.parse(dataOf<{ next_attempt_at: string }>(seen[2]).next_attempt_at);
    await reader.close();
    // The wait is the run's watchdog job, due at the next attempt; the status says so.
    expect(await watchdogJob(alice, run.run_id)).toEqual({ run_at: next, kind: 'run' });
    const waiting = await status(alice, run.run_id);
    expect(waiting).toMatchObject({
      status: 'running',
      retry: { node_id: 'fetch', attempt: 1, next_attempt_at: new Date(next).toISOString() },
    });
    // A crash during the wait: the fresh hub neither loses the wait nor runs the node early.
    const hub = hubFor(env, alice.acct);
    await runInDurableObject(hub, (_h, state) => state.abort('simulated restart')).catch(() => undefined);
    expect((await status(alice, run.run_id)).status).toBe('running');
    // The first call may still reach the instance that is going away.
    const job = await waitFor(
      () => watchdogJob(alice, run.run_id).catch(() => undefined),
      'the restarted hub',
    );
    expect(job).toEqual({ run_at: next, kind: 'run' });
    // A stub of the aborted instance is broken: a new one reaches the new instance.
    await runDurableObjectAlarm(hubFor(env, alice.acct));
    expect(await countOf(key)).toBe(1);
    // At the next attempt's time (made due now) the run continues and completes.
    await fireRetryNow(alice, run.run_id);
    const done = await waitForStatus(alice, run.run_id, 'completed');
    expect(done.final_state).toMatchObject({ page: { body: { n: 2 } } });
    expect(await countOf(key)).toBe(2);
    const log = await runLog(alice, run.run_id);
    expect(log.map((e) => e.type)).toEqual([
      'run_started',
      'node_started',
      'node_retrying',
      'node_started',
      'node_completed',
      'edge_traversed',
      'graph_completed',
    ]);
  });

  it('fails the node as before after the last attempt, or routes it by tool_error', async () => {
    const { alice, key, run } = await runFlaky('down', 'fail=9&status=502', {
      max_attempts: 2,
      initial_interval_ms: 0,
    });
    const frames = await readToEnd(await openRunStream(alice, run.run_id));
    expect(frames.map((f) => f.event)).toEqual([
      'run_started',
      'node_started',
      'node_retrying',
      'node_started',
      'error',
    ]);
    expect(frames.at(-1)?.data).toMatchObject({
      code: 'node_failed',
      message: expect.stringContaining('HTTP 502'),
    });
    expect(await countOf(key)).toBe(2);

    const routedKey = `routed-${crypto.randomUUID()}`;
    const routed = flakyGraph(routedKey, 'fail=9', {
      max_attempts: 2,
      initial_interval_ms: 0,
      retry_on: ['http_5xx'],
    });
    routed.edges = [
      { from: 'fetch', branches: [{ when: { tool_error: true }, to: '__end__' }], default: '__end__' },
    ] as never;
    const second = await runGraph(alice, routed);
    const end = await waitForStatus(alice, second.run.run_id, 'completed');
    expect(end.final_state).toEqual({});
    expect(await countOf(routedKey)).toBe(2);
  });

  it('retries only the failures retry_on names', async () => {
    const { alice, key, run } = await runFlaky('missing', 'fail=9&status=404', {
      max_attempts: 5,
      retry_on: ['http_5xx'],
    });
    const failed = await waitForStatus(alice, run.run_id, 'failed');
    expect(failed.error?.message).toContain('HTTP 404');
    expect(await countOf(key)).toBe(1);
  });

  it("honours a Retry-After: the tool's 429 and the LLM provider's rate limit", async () => {
    const { alice, run } = await runFlaky('limited', 'fail=1&status=429&retry_after=20', {
      max_attempts: 2,
      initial_interval_ms: 10,
    });
    const reader = await openRunStream(alice, run.run_id);
    const retry = (await reader.events(3))[2];
    await reader.close();
    expect(retry?.data).toMatchObject({ error: expect.stringContaining('HTTP 429') });
    const [at] = await loggedAt(alice, run.run_id, 'node_retrying');
    const due = Date.parse(dataOf<{ next_attempt_at: string }>(retry).next_attempt_at);
    // Retry-After: 20 s, far past the policy's 10 ms.
    expect(due - (at ?? 0)).toBeGreaterThan(19_000);
    await call(`/v1/runs/${run.run_id}/cancel`, alice, { method: 'POST' });

    const llm = await runGraph(alice, {
      entry: 'ask',
      nodes: [
        {
          id: 'ask',
          type: 'llm',
          prompt: `limited ${crypto.randomUUID()} [[fake:rate_limit=1:30000]]`,
          output_key: 'answer',
          retry: { max_attempts: 2, initial_interval_ms: 10 },
        },
      ],
      edges: [],
    });
    const llmReader = await openRunStream(alice, llm.run.run_id);
    const llmRetry = (await llmReader.events(3))[2];
    await llmReader.close();
    expect(llmRetry?.data).toMatchObject({ error: expect.stringContaining('rate limited') });
    const [llmAt] = await loggedAt(alice, llm.run.run_id, 'node_retrying');
    expect(
      Date.parse(dataOf<{ next_attempt_at: string }>(llmRetry).next_attempt_at) - (llmAt ?? 0),
    ).toBeGreaterThan(29_000);
    // The second attempt is not refused.
    await fireRetryNow(alice, llm.run.run_id);
    await waitForStatus(alice, llm.run.run_id, 'completed');
  });

  it('a cancel during the wait ends the run and drops the wait; the deadline still bounds it', async () => {
    const alice = await makeUser();
    const policy = { max_attempts: 3, initial_interval_ms: 600_000, max_interval_ms: 600_000 };
    const { run } = await runGraph(alice, flakyGraph(`c-${crypto.randomUUID()}`, 'fail=9', policy));
    await waitFor(async () => ((await status(alice, run.run_id)).retry ? true : undefined), 'the wait');
    expect((await call(`/v1/runs/${run.run_id}/cancel`, alice, { method: 'POST' })).status).toBe(202);
    expect(await watchdogJob(alice, run.run_id)).toBeUndefined();
    expect((await waitForStatus(alice, run.run_id, 'cancelled')).retry).toBeNull();

    // Waiting counts as active time: a run whose wait outlasts RUN_TIMEOUT_SECONDS times out.
    const graph = await createGraph(alice, flakyGraph(`t-${crypto.randomUUID()}`, 'fail=9', policy));
    const timed = await startRun(alice, graph.id, {}, { RUN_TIMEOUT_SECONDS: '1' });
    const frames = await readToEnd(await openRunStream(alice, timed.run_id), 10_000);
    expect(frames.map((f) => f.event)).toEqual(['run_started', 'node_started', 'node_retrying', 'error']);
    expect(frames.at(-1)?.data).toMatchObject({ code: 'timeout' });
  });

  it('refuses retry settings out of range at graph creation, naming the field', async () => {
    const alice = await makeUser();
    const bad = async (retry: unknown, field: string) => {
      const res = await call('/v1/graphs', alice, {
        body: { name: `bad-${crypto.randomUUID()}`, schema: flakyGraph('x', '', retry) },
      });
      const err = await expectError(res, 400, 'invalid_graph');
      expect(err.details).toContainEqual({ field, message: expect.stringContaining('node "fetch"') });
    };
    await bad({ max_attempts: 11 }, 'schema.nodes[0].retry.max_attempts');
    await bad({ max_attempts: 0 }, 'schema.nodes[0].retry.max_attempts');
    await bad({ max_attempts: 3, backoff_coefficient: 0.9 }, 'schema.nodes[0].retry.backoff_coefficient');
    await bad({ max_attempts: 3, initial_interval_ms: -5 }, 'schema.nodes[0].retry.initial_interval_ms');
    await bad(
      { max_attempts: 3, initial_interval_ms: 9000, max_interval_ms: 10 },
      'schema.nodes[0].retry.max_interval_ms',
    );
    await bad({ max_attempts: 3, retry_on: ['flaky'] }, 'schema.nodes[0].retry.retry_on[0]');
    // Nothing was stored.
    expect((await json<{ items: unknown[] }>(await call('/v1/graphs', alice))).items).toEqual([]);
  });
});
