// One fan-out measurement: a system publishes marked events, N subscribers in the client processes
// receive them. Latency: one event at a time, each waited for on every subscriber, from the
// publish call to each subscriber's receipt (every delivery is a sample). Throughput: a burst from
// several concurrent publishers, until every subscriber has every event. CPU: the system's
// processes' CPU time (from /proc) over each phase, per frame the clients received.
import type { ClientPool } from './clients';
import { monotonicMs } from './clients';
import { percentile, sleep } from './http';
import { cpuMs } from './proc';

export interface FanoutSystem {
  label: string;
  /** The client group its subscribers are in. */
  group: string;
  publish(mark: number): Promise<void>;
  /** The processes whose CPU time is this system's (read before and after each phase). */
  pids(): number[];
  /** A pause after each timed event, so the next one starts from idle (e.g. an assessment). */
  settleMs?: number;
}

export interface FanoutRun {
  p50: number;
  p99: number;
  /** POST → answer (the publish call's own latency), p50. */
  publishP50: number;
  /** Receipt of the first and of the last subscriber, medians over the timed events. */
  firstP50: number;
  lastP50: number;
  deliveriesPerSec: number;
  expected: number;
  delivered: number;
  lost: number;
  /** CPU ms of the system's processes per frame the clients received, one event at a time / in the burst. */
  cpuPerFrameUs: number;
  burstCpuPerFrameUs: number;
}

export async function measureFanout(
  pool: ClientPool,
  system: FanoutSystem,
  n: number,
  latencyEvents: number,
  burstEvents: number,
  nextMark: () => number,
  burstConcurrency = 8,
): Promise<FanoutRun> {
  const cpu = () => system.pids().reduce((a, pid) => a + cpuMs(pid), 0);
  const sentAt = new Map<number, number>();
  const publishTimes: number[] = [];
  const marks: number[] = [];
  let lost = 0;

  // One event at a time.
  const framesBefore = (await pool.stats(system.group)).frames;
  const cpuBefore = cpu();
  for (let i = 0; i < latencyEvents; i++) {
    const mark = nextMark();
    marks.push(mark);
    const t = monotonicMs();
    sentAt.set(mark, t);
    const waiting = pool.waitAll(system.group, mark, 15_000);
    await system.publish(mark);
    publishTimes.push(monotonicMs() - t);
    await waiting;
    await sleep(system.settleMs ?? 5);
  }
  const cpuLatency = cpu() - cpuBefore;
  const framesLatency = (await pool.stats(system.group)).frames - framesBefore;
  const times = await pool.times(system.group, marks);
  const latencies: number[] = [];
  const firsts: number[] = [];
  const lasts: number[] = [];
  for (const [mark, list] of times) {
    const t = sentAt.get(mark) as number;
    lost += Math.max(0, n - list.length);
    if (list.length === 0) continue;
    for (const at of list) latencies.push(at - t);
    firsts.push(Math.min(...list) - t);
    lasts.push(Math.max(...list) - t);
  }
  latencies.sort((a, b) => a - b);

  // A burst from several publishers at once.
  const burst = Array.from({ length: burstEvents }, () => nextMark());
  const framesBurstBefore = (await pool.stats(system.group)).frames;
  const cpuBurstBefore = cpu();
  const start = monotonicMs();
  const allIn = Promise.all(burst.map((m) => pool.waitAll(system.group, m, 60_000)));
  let next = 0;
  await Promise.all(
    Array.from({ length: burstConcurrency }, async () => {
      while (next < burst.length) {
        const mark = burst[next++] as number;
        sentAt.set(mark, monotonicMs());
        await system.publish(mark);
      }
    }),
  );
  await allIn;
  const burstTimes = await pool.times(system.group, burst);
  let lastAt = start;
  let burstGot = 0;
  for (const list of burstTimes.values()) {
    burstGot += Math.min(n, list.length);
    lost += Math.max(0, n - list.length);
    for (const at of list) lastAt = Math.max(lastAt, at);
  }
  const cpuBurst = cpu() - cpuBurstBefore;
  const framesBurst = (await pool.stats(system.group)).frames - framesBurstBefore;
  await sleep(system.settleMs ?? 5);

  const sortedPublish = [...publishTimes].sort((a, b) => a - b);
  const expected = (marks.length + burst.length) * n;
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    publishP50: percentile(sortedPublish, 50),
    firstP50: percentile(
      firsts.sort((a, b) => a - b),
      50,
    ),
    lastP50: percentile(
      lasts.sort((a, b) => a - b),
      50,
    ),
    deliveriesPerSec: burstGot / ((lastAt - start) / 1000),
    expected,
    delivered: expected - lost,
    lost,
    cpuPerFrameUs: framesLatency > 0 ? (cpuLatency * 1000) / framesLatency : Number.NaN,
    burstCpuPerFrameUs: framesBurst > 0 ? (cpuBurst * 1000) / framesBurst : Number.NaN,
  };
}

/** The median over repeats of one figure. */
export const medianOf = (runs: FanoutRun[], pick: (r: FanoutRun) => number) => {
  const xs = runs.map(pick).sort((a, b) => a - b);
  return percentile(xs, 50);
};
