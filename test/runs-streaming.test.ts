import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { hubFor } from '../worker/hub/hub-client';
import { waitFor } from './escalation-helpers';
import { call, makeUser, usageTotals } from './helpers';
import { openRunStream, readToEnd, runGraph, runLog, waitForStatus } from './runs-helpers';
import { dataOf, type Frame, type SseReader } from './sse';

/** One streaming llm node; `words_ms` paces the fake provider's words. */
const streamingGraph = (
  wordMs: number,
  extra: Record<string, unknown> = {},
  prompt = 'Explain why the VPN drops',
) => ({
  entry: 'answer',
  nodes: [
    {
      id: 'answer',
      type: 'llm',
      prompt: `${prompt} ${crypto.randomUUID()} [[fake:word_ms=${wordMs}]]`,
      output_key: 'answer',
      stream: true,
      ...extra,
    },
  ],
  edges: [{ from: 'answer', to: '__end__' }],
});

type Delta = { node_id: string; text: string; replace?: true };

/** The text a client holds after these frames: `replace` starts over, the others append. */
function assemble(frames: Frame[]): string {
  let text = '';
  for (const f of frames) {
    if (f.event !== 'node_delta') continue;
    const d = f.data as Delta;
    text = d.replace ? d.text : text + d.text;
  }
  return text;
}

async function deltasUntil(reader: SseReader, count: number, into: Frame[]) {
  await waitFor(
    async () => {
      const f = await reader.nextEvent(200);
      if (f) into.push(f);
      return into.filter((x) => x.event === 'node_delta').length >= count ? true : undefined;
    },
    `${count} node_delta frames`,
    15_000,
  );
}

describe('graph runs: token streaming', () => {
  it('streams an llm node as node_delta frames (no id, never logged); node_completed has the whole text and usage', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, streamingGraph(15));
    const frames = await readToEnd(await openRunStream(alice, run.run_id), 15_000);
    const deltas = frames.filter((f) => f.event === 'node_delta');
    expect(deltas.length).toBeGreaterThan(1);
    for (const d of deltas) {
      expect(d.id).toBeUndefined();
      expect((d.data as Delta).node_id).toBe('answer');
    }
    expect(dataOf<Delta>(deltas[0]).replace).toBe(true);
    expect(deltas.slice(1).every((d) => (d.data as Delta).replace === undefined)).toBe(true);
    // Deltas come between the node's start and its completion.
    const types = frames.map((f) => f.event);
    expect(types.indexOf('node_started')).toBeLessThan(types.indexOf('node_delta'));
    expect(types.lastIndexOf('node_delta')).toBeLessThan(types.indexOf('node_completed'));
    const completed = frames.find((f) => f.event === 'node_completed')?.data as {
      state: { answer: string };
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    // What was not sent when the node completed is in node_completed, which has it all.
    expect(completed.state.answer.startsWith(assemble(frames))).toBe(true);
    expect(completed.usage).toEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: completed.state.answer.split(/\s+/).filter(Boolean).length,
    });
    // The log never held a delta: a replay shows none.
    expect((await runLog(alice, run.run_id)).map((e) => e.type)).not.toContain('node_delta');
    const replay = await readToEnd(await openRunStream(alice, run.run_id));
    expect(replay.some((f) => f.event === 'node_delta')).toBe(false);
    // The tokens are counted for usage.
    const usage = await usageTotals(alice);
    expect(usage.llm_tokens.prompt).toBe(completed.usage.prompt_tokens);
    expect(usage.llm_tokens.completion).toBe(completed.usage.completion_tokens);
  });

  it('gives a client that connects mid-node the text so far first, with replace: true', async () => {
    const alice = await makeUser();
    const bob = await makeUser({ acct: alice.acct });
    const { run } = await runGraph(
      alice,
      streamingGraph(120, {}, 'A long answer about the VPN and its many drops'),
    );
    const early = await openRunStream(alice, run.run_id);
    const earlyFrames: Frame[] = [];
    await deltasUntil(early, 2, earlyFrames);
    // Bob opens the stream from the start: the replay, then the text so far, then live deltas.
    const late = await openRunStream(bob, run.run_id);
    const lateFrames = [...(await late.events(3))];
    expect(lateFrames.map((f) => f.event)).toEqual(['run_started', 'node_started', 'node_delta']);
    const first = lateFrames[2]?.data as Delta;
    expect(first.replace).toBe(true);
    expect(first.text.startsWith(assemble(earlyFrames))).toBe(true);
    earlyFrames.push(...(await readToEnd(early, 20_000)));
    lateFrames.push(...(await readToEnd(late, 20_000)));
    // Both end up holding the same text.
    expect(assemble(lateFrames)).toBe(assemble(earlyFrames));
    expect(lateFrames.at(-1)?.event).toBe('graph_completed');
  });

  it('keeps streaming through a hub restart: the run continues and the client gets the text so far again', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(
      alice,
      streamingGraph(100, {}, 'Restart me while I am talking about routers'),
    );
    const reader = await openRunStream(alice, run.run_id);
    const before: Frame[] = [];
    await deltasUntil(reader, 2, before);
    await runInDurableObject(hubFor(env, alice.acct), (_h, state) => state.abort('simulated restart')).catch(
      () => undefined,
    );
    // The hub's socket went with it: the stream ends, and the client resumes by Last-Event-ID.
    await waitFor(
      async () => ((await reader.next(200)) === undefined && reader.ended ? true : undefined),
      'the stream to end',
    );
    const lastId = Math.max(...before.filter((f) => f.id !== undefined).map((f) => f.id as number));
    const resumed = await waitFor(
      () => openRunStream(alice, run.run_id, lastId).catch(() => undefined),
      'the stream to reopen',
    );
    const after = await readToEnd(resumed, 20_000);
    // The node runs again from its checkpoint: its text starts over with replace: true.
    const firstDelta = after.find((f) => f.event === 'node_delta')?.data as Delta | undefined;
    expect(firstDelta?.replace).toBe(true);
    expect(after.at(-1)?.event).toBe('graph_completed');
    const answer = dataOf<{ state: { answer: string } }>(after.find((f) => f.event === 'node_completed'))
      .state.answer;
    expect(answer.startsWith(assemble(after))).toBe(true);
    expect(answer.startsWith(assemble(before))).toBe(true);
    // The log holds the node once: its re-run start was not logged twice.
    const log = await runLog(alice, run.run_id);
    expect(log.filter((e) => e.type === 'node_started')).toHaveLength(1);
  });

  it('retries a stream that broke off halfway: the next attempt replaces the partial text; without a policy the node fails cleanly', async () => {
    const alice = await makeUser();
    const flaky = (retry?: unknown) =>
      streamingGraph(
        120,
        retry ? { retry } : {},
        `Drop me halfway, after a few words about the network [[fake:flaky=1]] ${crypto.randomUUID()}`,
      );
    const { run } = await runGraph(alice, flaky({ max_attempts: 2, initial_interval_ms: 0 }));
    const frames = await readToEnd(await openRunStream(alice, run.run_id), 15_000);
    const types = frames.map((f) => f.event);
    const retryAt = types.indexOf('node_retrying');
    expect(retryAt).toBeGreaterThan(0);
    expect(types.slice(0, retryAt)).toContain('node_delta');
    const afterRetry = frames.slice(retryAt + 1);
    expect(afterRetry[0]).toMatchObject({ event: 'node_started', data: { node_id: 'answer', attempt: 2 } });
    expect(dataOf<Delta>(afterRetry.find((f) => f.event === 'node_delta')).replace).toBe(true);
    expect(types.at(-1)).toBe('graph_completed');

    const failing = await runGraph(alice, flaky());
    const end = await readToEnd(await openRunStream(alice, failing.run.run_id), 15_000);
    expect(end.at(-1)).toMatchObject({
      event: 'error',
      data: { code: 'node_failed', message: expect.stringContaining('dropped the connection') },
    });
  });

  it('cancel stops the stream: the in-flight call is aborted and nothing follows the terminal event', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, streamingGraph(300, {}, 'Cancel me mid sentence about firewalls'));
    const reader = await openRunStream(alice, run.run_id);
    const frames: Frame[] = [];
    await deltasUntil(reader, 1, frames);
    expect((await call(`/v1/runs/${run.run_id}/cancel`, alice, { method: 'POST' })).status).toBe(202);
    const rest = await readToEnd(reader);
    expect(rest.at(-1)).toMatchObject({ event: 'error', data: { code: 'cancelled' } });
    expect(await reader.next(700)).toBeUndefined();
    await waitForStatus(alice, run.run_id, 'cancelled');
    expect((await runLog(alice, run.run_id)).map((e) => e.type)).not.toContain('node_completed');
  });
});
