// Escalation fan-out: publish → received latency and deliveries/s for N SSE subscribers on one
// account, against Redis pub/sub with N subscribers on the same machine, interleaved per repeat.
import { createClient } from 'redis';
import { call, percentile, sleep } from './lib/http';
import { Subscriber } from './lib/sse-client';
import type { Stack } from './lib/stack';

export interface FanoutRun {
  p50: number;
  p99: number;
  deliveriesPerSec: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  /** Switchboard only: POST → 201 median during the latency phase. */
  createdP50?: number;
}

export interface FanoutResult {
  subscribers: number;
  switchboard: FanoutRun[];
  redis: FanoutRun[];
  /** Over every SSE subscriber's whole sequence (assessment events included). */
  sequenceGaps?: number;
  /** SSE reconnects (a stream closed by the server, e.g. as a slow consumer, resumes by Last-Event-ID). */
  reconnects?: number;
  sequenceDuplicates?: number;
}

let seq = 0;
const sendAt = new Map<number, number>();
const MARK = /"reason":"bm(\d+)"/;

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** Waits (bounded) until `done()` or the deadline. */
async function until(done: () => boolean, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (!done() && Date.now() < end) await sleep(2);
  return done();
}

export interface FanoutContext {
  stack: Stack;
  token: string;
  sessionId: string;
  /** A real card's JSON, so Redis carries messages of the same size as the SSE data. */
  cardJson: string;
  log: (m: string) => void;
}

export async function benchFanout(
  ctx: FanoutContext,
  n: number,
  repeats: number,
  latencyEvents: number,
  burstEvents: number,
  burstConcurrency = 8,
): Promise<FanoutResult> {
  const { stack, token, sessionId } = ctx;
  const lastEventId = (
    (await call(stack.url, 'GET', '/v1/escalations?limit=1', { token })).json as { last_event_id: number }
  ).last_event_id;

  // ── subscribers on both systems ──
  let sbHandler: (mark: number, at: number) => void = () => {};
  const subs = Array.from(
    { length: n },
    () =>
      new Subscriber({
        base: stack.url,
        path: '/v1/escalations/stream',
        token,
        lastEventId,
        // As a real client would: a dropped stream resumes by Last-Event-ID (counted below).
        reconnect: true,
        onEvent: (f, at) => {
          if (f.event !== 'escalation.created' || !f.data) return;
          const m = MARK.exec(f.data);
          if (m) sbHandler(Number(m[1]), at);
        },
      }),
  );
  await inBatches(subs, 50, (s) => s.open());
  let rdHandler: (mark: number, at: number) => void = () => {};
  const channel = `bench:${Date.now()}`;
  const redisSubs = Array.from({ length: n }, () => createClient({ url: 'redis://127.0.0.1:6379' }));
  await inBatches(redisSubs, 50, async (c) => {
    c.on('error', () => {});
    await c.connect();
    await c.subscribe(channel, (message) => {
      const at = performance.now();
      const m = MARK.exec(message);
      if (m) rdHandler(Number(m[1]), at);
    });
  });
  const publisher = createClient({ url: 'redis://127.0.0.1:6379' });
  publisher.on('error', () => {});
  await publisher.connect();
  ctx.log(`fan-out ${n}: ${n} SSE subscribers and ${n} Redis subscribers open`);

  const post = async (mark: number) => {
    const res = await call(stack.url, 'POST', `/v1/sessions/${sessionId}/handoffs`, {
      token,
      body: { intent: 'escalate', reason: `bm${mark}`, severity: 'normal' },
    });
    if (res.status !== 201) throw new Error(`handoff answered ${res.status}: ${res.text.slice(0, 200)}`);
  };
  const redisPublish = async (mark: number) => {
    await publisher.publish(channel, ctx.cardJson.replace(/"reason":"[^"]*"/, `"reason":"bm${mark}"`));
  };

  async function run(system: 'switchboard' | 'redis'): Promise<FanoutRun> {
    const publish = system === 'switchboard' ? post : redisPublish;
    const latencies: number[] = [];
    const count = new Map<number, number>();
    let dupes = 0;
    const handler = (mark: number, at: number) => {
      const t = sendAt.get(mark);
      if (t === undefined) return;
      const c = (count.get(mark) ?? 0) + 1;
      count.set(mark, c);
      if (c > n) dupes++;
      else if (measuring) latencies.push(at - t);
      else lastAt = Math.max(lastAt, at);
    };
    if (system === 'switchboard') sbHandler = handler;
    else rdHandler = handler;
    let measuring = true;
    let lastAt = 0;
    const marks: number[] = [];
    const created: number[] = [];
    // Latency: one event at a time, each waited for on every subscriber (the bus is otherwise idle).
    for (let i = 0; i < latencyEvents; i++) {
      const mark = ++seq;
      marks.push(mark);
      const t = performance.now();
      sendAt.set(mark, t);
      await publish(mark);
      created.push(performance.now() - t);
      await until(() => (count.get(mark) ?? 0) >= n, 5_000);
      await sleep(5);
    }
    // Throughput: a burst, `burstConcurrency` publishers, until every subscriber has every event.
    measuring = false;
    const burst = Array.from({ length: burstEvents }, () => ++seq);
    marks.push(...burst);
    const start = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: burstConcurrency }, async () => {
        while (next < burst.length) {
          const mark = burst[next++] as number;
          sendAt.set(mark, performance.now());
          await publish(mark);
        }
      }),
    );
    await until(() => burst.every((m) => (count.get(m) ?? 0) >= n), 60_000);
    // The burst ends when its last delivery arrived; deliveries are counted, not assumed.
    const last = lastAt || performance.now();
    const delivered = burst.reduce((a, m) => a + Math.min(n, count.get(m) ?? 0), 0);
    const expected = marks.length * n;
    const got = marks.reduce((a, m) => a + Math.min(n, count.get(m) ?? 0), 0);
    latencies.sort((a, b) => a - b);
    created.sort((a, b) => a - b);
    return {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      deliveriesPerSec: delivered / ((last - start) / 1000),
      expected,
      delivered: got,
      lost: expected - got,
      duplicates: dupes,
      ...(system === 'switchboard' ? { createdP50: percentile(created, 50) } : {}),
    };
  }

  const result: FanoutResult = { subscribers: n, switchboard: [], redis: [] };
  try {
    for (let r = 0; r < repeats; r++) {
      // Interleaved, so contention from other work on the machine hits both alike.
      result.switchboard.push(await run('switchboard'));
      result.redis.push(await run('redis'));
      const s = result.switchboard.at(-1) as FanoutRun;
      const d = result.redis.at(-1) as FanoutRun;
      ctx.log(
        `fan-out ${n} repeat ${r + 1}: switchboard p50 ${s.p50.toFixed(2)} p99 ${s.p99.toFixed(2)} ms, ${s.deliveriesPerSec.toFixed(0)}/s, lost ${s.lost}; redis p50 ${d.p50.toFixed(2)} p99 ${d.p99.toFixed(2)} ms, ${d.deliveriesPerSec.toFixed(0)}/s, lost ${d.lost}`,
      );
    }
    // Sequence continuity over the whole topic (assessments included): no gap, no duplicate.
    await sleep(500);
    const gaps = subs.reduce((a, s) => a + s.gaps, 0);
    const dups = subs.reduce((a, s) => a + s.duplicates, 0);
    const last = subs.at(0)?.lastId;
    if (gaps || dups) ctx.log(`fan-out ${n}: sequence gaps ${gaps}, duplicates ${dups} (!)`);
    result.reconnects = subs.reduce((a, s) => a + Math.max(0, s.connects - 1), 0);
    result.sequenceGaps = gaps;
    result.sequenceDuplicates = dups;
    ctx.log(`fan-out ${n}: sequence continuity checked on ${n} subscribers up to id ${last}`);
  } finally {
    for (const s of subs) s.close();
    await Promise.all(redisSubs.map((c) => c.quit().catch(() => {})));
    await publisher.quit().catch(() => {});
  }
  return result;
}
