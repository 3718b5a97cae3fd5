import { describe, expect, it } from 'vitest';
import { call, expectError, json, makeUser } from './helpers';
import {
  humanGraph,
  linearGraph,
  openRunStream,
  readToEnd,
  runGraph,
  runLog,
  status,
  waitForStatus,
} from './runs-helpers';
import type { Frame } from './sse';

const events = (frames: Frame[]) => frames.map((f) => f.event);
const dataOf = <T = Record<string, unknown>>(frames: Frame[], event: string) =>
  frames.filter((f) => f.event === event).map((f) => f.data as T);

describe('graph runs: execution and streaming', () => {
  it('runs a linear graph, streaming each step with state snapshots that evolve across nodes', async () => {
    const alice = await makeUser();
    const { graph, run } = await runGraph(alice, linearGraph, { name: 'Ada' });
    expect(run).toMatchObject({ status: 'running', stream_url: `/v1/runs/${run.run_id}/stream` });
    const reader = await openRunStream(alice, run.run_id);
    const frames = await readToEnd(reader);
    expect(events(frames)).toEqual([
      'run_started',
      'node_started',
      'node_completed',
      'edge_traversed',
      'node_started',
      'node_completed',
      'edge_traversed',
      'node_started',
      'node_completed',
      'edge_traversed',
      'graph_completed',
    ]);
    // Sequential ids from 1, and the stream closes after the terminal event.
    expect(frames.map((f) => f.id)).toEqual(frames.map((_, i) => i + 1));
    expect(await reader.next(1_000)).toBeUndefined();
    expect(reader.ended).toBe(true);

    expect(frames[0]?.data).toEqual({ run_id: run.run_id, graph_id: graph.id, input: { name: 'Ada' } });
    const completed = dataOf<{ node_id: string; state: Record<string, unknown>; duration_ms: number }>(
      frames,
      'node_completed',
    );
    expect(completed.map((c) => c.node_id)).toEqual(['greet', 'shout', 'answer']);
    expect(Object.keys(completed[0]?.state ?? {})).toEqual(['name', 'greeting']);
    expect(completed[1]?.state).toEqual({
      name: 'Ada',
      greeting: 'hello Ada',
      echoed: { text: 'hello Ada!' },
    });
    expect(completed[2]?.state.answer).toMatch(/^\[fake\] /);
    for (const c of completed) expect(Number.isInteger(c.duration_ms) && c.duration_ms >= 0).toBe(true);
    expect(dataOf(frames, 'edge_traversed')).toEqual([
      { from: 'greet', to: 'shout' },
      { from: 'shout', to: 'answer' },
      { from: 'answer', to: '__end__' },
    ]);
    const [done] = dataOf<{ final_state: unknown; duration_ms: number }>(frames, 'graph_completed');
    expect(done?.final_state).toEqual(completed[2]?.state);
    // The run's time holds each node's: a duration taken from the wrong clock or start breaks this.
    expect(done?.duration_ms).toBeGreaterThanOrEqual(Math.max(...completed.map((c) => c.duration_ms)));
  });

  it('branches on field_equals, reporting the condition result', async () => {
    const alice = await makeUser();
    const schema = {
      entry: 'route',
      nodes: [
        { id: 'route', type: 'transform', set: { routed: true } },
        { id: 'vpn', type: 'transform', set: { team: 'network' } },
        { id: 'other', type: 'transform', set: { team: 'general' } },
      ],
      edges: [
        {
          from: 'route',
          branches: [{ when: { field_equals: { field: 'product', value: 'vpn' } }, to: 'vpn' }],
          default: 'other',
        },
        { from: 'vpn', to: '__end__' },
        { from: 'other', to: '__end__' },
      ],
    };
    const { graph, run: vpnRun } = await runGraph(alice, schema, { product: 'vpn' });
    const vpn = await readToEnd(await openRunStream(alice, vpnRun.run_id));
    expect(dataOf(vpn, 'edge_traversed')).toEqual([
      { from: 'route', to: 'vpn', condition_result: true },
      { from: 'vpn', to: '__end__' },
    ]);
    expect(dataOf(vpn, 'graph_completed')[0]).toMatchObject({ final_state: { team: 'network' } });

    const res = await call(`/v1/graphs/${graph.id}/run`, alice, { body: { input: { product: 'email' } } });
    const emailRun = await json<{ run_id: string }>(res);
    const email = await readToEnd(await openRunStream(alice, emailRun.run_id));
    expect(dataOf(email, 'edge_traversed')[0]).toEqual({
      from: 'route',
      to: 'other',
      condition_result: false,
    });
    expect(dataOf(email, 'graph_completed')[0]).toMatchObject({ final_state: { team: 'general' } });
  });

  it('routes a tool error by its tool_error branch, including the edge to the end', async () => {
    const alice = await makeUser();
    const schema = {
      entry: 'call',
      nodes: [
        { id: 'call', type: 'tool', tool: 'fail', args: { message: 'upstream down' }, output_key: 'out' },
      ],
      edges: [
        { from: 'call', branches: [{ when: { tool_error: true }, to: '__end__' }], default: '__end__' },
      ],
    };
    const { run } = await runGraph(alice, schema);
    const frames = await readToEnd(await openRunStream(alice, run.run_id));
    expect(events(frames)).toEqual([
      'run_started',
      'node_started',
      'node_completed',
      'edge_traversed',
      'graph_completed',
    ]);
    expect(dataOf(frames, 'node_completed')[0]).toMatchObject({
      node_id: 'call',
      tool_error: expect.stringContaining('upstream down'),
    });
    expect(dataOf(frames, 'edge_traversed')[0]).toEqual({
      from: 'call',
      to: '__end__',
      condition_result: true,
    });
    expect((await waitForStatus(alice, run.run_id, 'completed')).error).toBeNull();

    // Without a tool_error branch the run fails with node_failed.
    const { run: failing } = await runGraph(alice, {
      entry: 'call',
      nodes: [{ id: 'call', type: 'tool', tool: 'fail', args: {} }],
      edges: [{ from: 'call', to: '__end__' }],
    });
    const failed = await readToEnd(await openRunStream(alice, failing.run_id));
    expect(failed.at(-1)).toMatchObject({ event: 'error', data: { code: 'node_failed' } });
    const view = await waitForStatus(alice, failing.run_id, 'failed');
    expect(view.error).toMatchObject({
      code: 'node_failed',
      message: expect.stringContaining('fail tool invoked'),
    });
  });

  it('pauses for human input and resumes with any JSON', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, humanGraph, { name: 'Ada' });
    const reader = await openRunStream(alice, run.run_id);
    const first = await reader.events(3);
    expect(events(first)).toEqual(['run_started', 'node_started', 'graph_paused']);
    expect(first[2]?.data).toEqual({ node_id: 'ask', prompt: 'Which product, Ada?' });

    const paused = await waitForStatus(alice, run.run_id, 'paused');
    expect(paused.paused).toEqual({ node_id: 'ask', prompt: 'Which product, Ada?' });
    expect(paused.ended_at).toBeNull();

    const answer = { product: 'vpn', tags: ['a', 1, null] };
    const res = await call(`/v1/runs/${run.run_id}/resume`, alice, { body: { input: answer } });
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({ run_id: run.run_id, status: 'running' });
    const rest = await readToEnd(reader);
    expect(events(rest)).toEqual([
      'run_resumed',
      'node_completed',
      'edge_traversed',
      'node_started',
      'node_completed',
      'edge_traversed',
      'graph_completed',
    ]);
    expect(rest[0]?.data).toEqual({ node_id: 'ask' });
    expect(dataOf(rest, 'node_completed')[0]).toEqual({
      node_id: 'ask',
      state: { name: 'Ada', product: answer },
      duration_ms: 0,
    });
    const done = await waitForStatus(alice, run.run_id, 'completed');
    expect(done.final_state).toEqual({ name: 'Ada', product: answer, routed: true });
    expect(done.paused).toBeNull();

    // Only a paused run resumes.
    await expectError(
      await call(`/v1/runs/${run.run_id}/resume`, alice, { body: { input: 1 } }),
      409,
      'not_paused',
    );
  });

  it('resumes with JSON null and scalars', async () => {
    const alice = await makeUser();
    for (const input of [null, 'vpn', 42, false]) {
      const { run } = await runGraph(alice, humanGraph);
      await waitForStatus(alice, run.run_id, 'paused');
      expect((await call(`/v1/runs/${run.run_id}/resume`, alice, { body: { input } })).status).toBe(202);
      expect((await waitForStatus(alice, run.run_id, 'completed')).final_state).toEqual({
        product: input,
        routed: true,
      });
    }
  });

  it('continues a paused run once when two resumes race', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, humanGraph);
    await waitForStatus(alice, run.run_id, 'paused');
    const [a, b] = await Promise.all(
      ['first', 'second'].map((input) => call(`/v1/runs/${run.run_id}/resume`, alice, { body: { input } })),
    );
    expect([a?.status, b?.status].sort()).toEqual([202, 409]);
    const done = await waitForStatus(alice, run.run_id, 'completed');
    const log = await runLog(alice, run.run_id);
    expect(log.filter((e) => e.type === 'run_resumed')).toHaveLength(1);
    expect(log.filter((e) => e.type === 'graph_completed')).toHaveLength(1);
    expect(['first', 'second']).toContain(done.final_state?.product);
  });

  it('reports status transitions with timings and the final state, during and after the run', async () => {
    const alice = await makeUser();
    const schema = {
      entry: 'think',
      nodes: [
        { id: 'think', type: 'llm', prompt: 'slow [[fake:delay=400]]', output_key: 'thought' },
        { id: 'ask', type: 'human_input', prompt: 'OK?', output_key: 'ok' },
      ],
      edges: [
        { from: 'think', to: 'ask' },
        { from: 'ask', to: '__end__' },
      ],
    };
    const { run } = await runGraph(alice, schema, { n: 1 });
    const running = await status(alice, run.run_id);
    expect(running).toMatchObject({
      status: 'running',
      input: { n: 1 },
      error: null,
      ended_at: null,
      duration_ms: null,
    });
    expect(running.started_at).not.toBeNull();

    const paused = await waitForStatus(alice, run.run_id, 'paused');
    expect(paused.state).toMatchObject({ n: 1, thought: expect.stringMatching(/^\[fake\]/) });
    expect(paused.active_ms).toBeGreaterThanOrEqual(0);

    await call(`/v1/runs/${run.run_id}/resume`, alice, { body: { input: true } });
    const done = await waitForStatus(alice, run.run_id, 'completed');
    expect(done.final_state).toMatchObject({ n: 1, ok: true });
    expect(done.duration_ms).toBeGreaterThanOrEqual(done.active_ms ?? 0);
    expect(new Date(done.ended_at ?? 0).getTime()).toBeGreaterThanOrEqual(
      new Date(done.started_at ?? 0).getTime(),
    );

    // The record in Postgres catches up (the list reads Postgres only).
    const listed = await waitForStatusInList(alice, run.run_id, 'completed');
    expect(listed).toMatchObject({ final_state: { ok: true }, duration_ms: done.duration_ms });
  });

  it('replays from Last-Event-ID with no gap and no duplicate', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, linearGraph, { name: 'Ada' });
    const all = await readToEnd(await openRunStream(alice, run.run_id));
    const resumed = await readToEnd(await openRunStream(alice, run.run_id, 4));
    expect(resumed.map((f) => f.id)).toEqual(all.slice(4).map((f) => f.id));
    expect(resumed.at(-1)?.event).toBe('graph_completed');
    const viaQuery = await call(`/v1/runs/${run.run_id}/stream?last_event_id=9`, alice);
    expect(viaQuery.status).toBe(200);
    await expectError(
      await call(`/v1/runs/${run.run_id}/stream`, alice, { headers: { 'last-event-id': 'abc' } }),
      400,
      'validation_failed',
    );
  });

  it('replays a live run from Last-Event-ID, then continues live', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, humanGraph);
    const first = await openRunStream(alice, run.run_id);
    const seen = await first.events(2);
    await first.close();
    const again = await openRunStream(alice, run.run_id, seen.at(-1)?.id);
    expect((await again.nextEvent())?.event).toBe('graph_paused');
    await call(`/v1/runs/${run.run_id}/resume`, alice, { body: { input: 'x' } });
    const rest = await readToEnd(again);
    expect(rest.map((f) => f.id)).toEqual(rest.map((_, i) => 4 + i));
    expect(rest.at(-1)?.event).toBe('graph_completed');
  });

  it('writes keepalive comments during a pause, without ids, never replayed', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, humanGraph);
    const reader = await openRunStream(alice, run.run_id);
    const paused = await reader.events(3);
    expect(paused.at(-1)?.event).toBe('graph_paused');
    const quiet = [await reader.next(2_000), await reader.next(2_000)];
    for (const f of quiet) expect(f).toEqual({ comment: 'keepalive' });
    await reader.close();
    const resumed = await openRunStream(alice, run.run_id, 0);
    const replay = await resumed.events(3, 2_000);
    expect(replay.map((f) => f.event)).toEqual(['run_started', 'node_started', 'graph_paused']);
    expect(replay.every((f) => f.id !== undefined)).toBe(true);
    await resumed.close();
  });
});

async function waitForStatusInList(
  user: Awaited<ReturnType<typeof makeUser>>,
  runId: string,
  wanted: string,
) {
  const deadline = Date.now() + 8_000;
  for (;;) {
    const list = await json<{ items: { id: string; status: string }[] }>(
      await call('/v1/runs?limit=200', user),
    );
    const item = list.items.find((r) => r.id === runId);
    if (item?.status === wanted) return item;
    if (Date.now() > deadline) throw new Error(`run ${runId} never listed as ${wanted}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
