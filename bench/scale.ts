// Scale: 10,000 subscribers on one account (past the relay threshold: the account hub holds 500,
// relay hubs the rest), clients spread over several Node processes. Delivery p50/p99 of handoffs
// created through the API, 0 lost (every subscriber's whole id sequence checked), memory per idle
// subscriber (workerd's RSS, and each isolate's JS heap after a full GC: the Worker's, which holds
// each SSE response, and the hubs', which hold each hibernatable socket), CPU per delivered frame.
// Also 1,000 idle subscribers measured three times, the figure an earlier run reported as 10.6 MiB
// on one machine and 53 MiB on another.
import { type Bench, ms, type Row, type Suite } from './lib/bench';
import { monotonicMs } from './lib/clients';
import { call, percentile, sleep } from './lib/http';
import { heapUsed } from './lib/inspector';
import { cpuMs, rssBytes } from './lib/proc';
import { HUBS, WORKER } from './lib/runtime';

const KIB = 1024;
/** An account whose hub the memory readings wake (nothing is published to it). */
const POKE_ACCOUNT = '00000000-0000-4000-8000-000000000000';
const MIB = 1024 * 1024;

interface MemorySample {
  rss: number;
  worker: number;
  hubs: number;
}

export const scaleSuite: Suite = {
  name: 'scale',
  async run(b: Bench) {
    const wanted = b.quick ? 2_000 : 10_000;
    // Each stream costs workerd two descriptors (its socket is duplicated); stay inside its limit.
    const fileLimit = b.workerdFileLimit();
    const N = Math.min(wanted, Math.floor((fileLimit - 2_000) / 2));
    if (N < wanted)
      b.log(`scale: workerd may open ${fileLimit} files, so ${N} subscribers instead of ${wanted}`);
    const processes = b.quick ? 2 : 4;
    const events = b.quick ? 3 : 10;
    const pool = await b.clients(processes);
    const pid = () => b.runtime.pid() as number;
    // A request into each isolate, so that the GC the inspector asks for runs (see heapUsed).
    const pokeWorker = () => call(b.runtime.url, 'GET', '/v1/poke', { timeoutMs: 2_000 }); // a 401, no database
    const pokeHubs = () =>
      call(b.runtime.publisherUrl, 'POST', '/', {
        body: { account: POKE_ACCOUNT, events: [] },
        timeoutMs: 2_000,
      });
    const sample = async (): Promise<MemorySample> => {
      // The heaps after a full collection; RSS after it too, so garbage is not counted as cost.
      const worker = await heapUsed(b.runtime.inspectorPort, WORKER, pokeWorker);
      const hubs = await heapUsed(b.runtime.inspectorPort, HUBS, pokeHubs);
      await sleep(500);
      return { rss: rssBytes(pid()), worker, hubs };
    };

    // ── 1,000 idle subscribers, three times ──
    const idleRuns: { n: number; rssNoGc: number; after: MemorySample; before: MemorySample }[] = [];
    for (let r = 0; r < 3; r++) {
      const account = await b.account();
      const before = await sample();
      const group = `idle-${r}`;
      const opened = await pool.open(group, 1000, {
        sse: { base: b.runtime.url, path: '/v1/escalations/stream', token: account.token },
      });
      await sleep(2_000);
      const rssNoGc = rssBytes(pid());
      const after = await sample();
      idleRuns.push({ n: opened.connected, rssNoGc, after, before });
      await pool.close(group);
      await b.reapClosedStreams();
      b.log(
        `idle 1,000 run ${r + 1}: RSS +${((rssNoGc - before.rss) / MIB).toFixed(1)} MiB before GC, +${((after.rss - before.rss) / MIB).toFixed(1)} MiB after; heaps Worker +${((after.worker - before.worker) / MIB).toFixed(2)} MiB, hubs +${((after.hubs - before.hubs) / MIB).toFixed(2)} MiB`,
      );
    }

    // ── N subscribers ──
    const account = await b.account();
    const group = 'scale';
    const before = await sample();
    const t0 = monotonicMs();
    const opened = await pool.open(group, N, {
      batch: 50,
      sse: {
        base: b.runtime.url,
        path: '/v1/escalations/stream',
        token: account.token,
        lastEventId: 0,
        events: ['escalation.created'],
      },
    });
    const openMs = monotonicMs() - t0;
    await sleep(3_000);
    const idle = await sample();
    b.log(
      `scale: ${opened.connected} of ${N} subscribers open in ${(openMs / 1000).toFixed(1)} s (failed ${opened.failedConnects})`,
    );

    // One event at a time, each waited for on every subscriber.
    const latencies: number[] = [];
    const lastOf: number[] = [];
    let lost = 0;
    const frames0 = (await pool.stats(group)).frames;
    const cpu0 = cpuMs(pid());
    for (let i = 0; i < events; i++) {
      const mark = b.mark();
      const t = monotonicMs();
      const waiting = pool.waitAll(group, mark, 60_000);
      await b.postHandoff(b.runtime.url, account.token, account.sessionId, mark);
      await waiting;
      const list = (await pool.times(group, [mark])).get(mark) ?? [];
      lost += N - list.length;
      for (const at of list) latencies.push(at - t);
      if (list.length) lastOf.push(Math.max(...list) - t);
      // The assessment's event reaches everyone too; start the next one from idle.
      await sleep(3_000);
    }
    const cpu = cpuMs(pid()) - cpu0;
    const stats = await pool.stats(group);
    const frames = stats.frames - frames0;
    latencies.sort((a, c) => a - c);
    // Every subscriber's whole sequence: nothing skipped, nothing twice, everyone at the end.
    const lastId = Math.max(...stats.lastIds);
    const behind = stats.lastIds.filter((id) => id !== lastId).length;
    await pool.close(group);
    await b.reapClosedStreams();
    const lostTotal = lost + stats.gaps + behind;
    const whole = lostTotal === 0 && stats.duplicates === 0 && opened.connected === N && N === wanted;

    const rssEach = (r: (typeof idleRuns)[number]) => (r.after.rss - r.before.rss) / r.n;
    const firstRss = idleRuns[0] ? rssEach(idleRuns[0]) : Number.NaN;
    const rssAll = idleRuns.map(rssEach).sort((a, c) => a - c);
    const steadyRss = percentile(rssAll, 50);
    const idlePer = {
      rss: (idle.rss - before.rss) / N,
      worker: (idle.worker - before.worker) / N,
      hubs: (idle.hubs - before.hubs) / N,
    };
    const rows: Row[] = [
      {
        comparison: `${N.toLocaleString('en')} subscribers on one account (${processes} client processes): delivery of ${events} handoffs, p50 / p99; lost (missing + gaps + not at the end) / duplicates`,
        switchboard: `${ms(percentile(latencies, 50))} / ${ms(percentile(latencies, 99))} ms; ${lostTotal} / ${stats.duplicates}`,
        peer: '—',
        ratio: '—',
        target: '0 lost',
        result: whole ? 'met' : 'missed',
        ...(whole
          ? {}
          : {
              cause: `${N < wanted ? `${N.toLocaleString('en')} of the ${wanted.toLocaleString('en')} subscribers only: workerd may open ${fileLimit} files here and needs two per stream (its socket is duplicated); the hard limit could not be raised without privilege. ` : ''}Connected ${opened.connected} of ${N}, missing ${lost}, gaps ${stats.gaps}, not at the end ${behind}, duplicates ${stats.duplicates}`,
            }),
      },
      {
        comparison: `Memory per idle subscriber, ${N.toLocaleString('en')} open: what the isolates hold (JS heaps after a full GC: Worker + hubs)`,
        switchboard: `${((idlePer.worker + idlePer.hubs) / KIB).toFixed(2)} KiB (${(idlePer.worker / KIB).toFixed(2)} + ${(idlePer.hubs / KIB).toFixed(2)})`,
        peer: '—',
        ratio: '—',
        target: '≤ 8 KiB',
        result: idlePer.worker + idlePer.hubs <= 8 * KIB ? 'met' : 'missed',
        ...(idlePer.worker + idlePer.hubs <= 8 * KIB
          ? {}
          : {
              cause: `the Worker holds ${(idlePer.worker / KIB).toFixed(1)} KiB per stream (its SSE response, stream, WebSocket and keepalive timer)`,
            }),
      },
      {
        comparison: `Memory per idle subscriber: workerd's RSS growth with 1,000 more open (median of three openings, each after a GC)`,
        switchboard: `${(steadyRss / KIB).toFixed(1)} KiB (openings: ${rssAll.map((v) => (v / KIB).toFixed(0)).join(', ')} KiB; at ${N.toLocaleString('en')}: ${(idlePer.rss / KIB).toFixed(1)} KiB)`,
        peer: '—',
        ratio: '—',
        target: '≤ 8 KiB',
        result: steadyRss <= 8 * KIB ? 'met' : 'missed',
        ...(steadyRss <= 8 * KIB
          ? {}
          : {
              cause: `native memory per connection in workerd (the HTTP connection, the request, the WebSocket pair between the isolates), outside the isolates' heaps; how much of it shows as RSS depends on whether the allocator reuses pages freed by earlier connections (first opening ${(firstRss / KIB).toFixed(0)} KiB each)`,
            }),
      },
    ];
    const idleTable = idleRuns
      .map(
        (r, i) =>
          `| ${i + 1} | ${r.n} | +${((r.rssNoGc - r.before.rss) / MIB).toFixed(1)} MiB (${((r.rssNoGc - r.before.rss) / r.n / KIB).toFixed(1)} KiB each) | +${((r.after.rss - r.before.rss) / MIB).toFixed(1)} MiB (${((r.after.rss - r.before.rss) / r.n / KIB).toFixed(1)} KiB each) | +${((r.after.worker - r.before.worker) / r.n / KIB).toFixed(2)} KiB | +${((r.after.hubs - r.before.hubs) / r.n / KIB).toFixed(2)} KiB |`,
      )
      .join('\n');
    const section = `## Scale: ${N.toLocaleString('en')} subscribers on one account

${N.toLocaleString('en')} SSE subscribers of one account, each checking its sequence from id 1, opened from ${processes} client processes
(${(openMs / 1000).toFixed(1)} s to open; ${opened.connected} connected, ${opened.failedConnects} failed attempts). The
account hub holds the first 500 sockets; relay hubs hold the rest, 500 each. Then ${events} handoffs
created through the API, one at a time: every delivery a sample, p50 ${ms(percentile(latencies, 50))} ms,
p99 ${ms(percentile(latencies, 99))} ms, the last subscriber at ${ms(
      percentile(
        lastOf.sort((a, c) => a - c),
        50,
      ),
    )} ms (median over events).
Lost: ${lost} missing deliveries, ${stats.gaps} sequence gaps, ${behind} subscribers not at the last id; duplicates
${stats.duplicates}; reconnects ${stats.reconnects}. CPU: ${(cpu / 1000).toFixed(1)} s of workerd for ${frames.toLocaleString('en')} frames
received (the created and the assessed event of each handoff): ${((cpu * 1000) / Math.max(1, frames)).toFixed(1)} µs per frame.

Memory with ${N.toLocaleString('en')} idle subscribers: workerd RSS ${(before.rss / MIB).toFixed(0)} → ${(idle.rss / MIB).toFixed(0)} MiB
(${(idlePer.rss / KIB).toFixed(1)} KiB each); JS heap after a full GC, Worker isolate ${(before.worker / MIB).toFixed(1)} →
${(idle.worker / MIB).toFixed(1)} MiB (${(idlePer.worker / KIB).toFixed(2)} KiB each), hubs' isolate ${(before.hubs / MIB).toFixed(1)} →
${(idle.hubs / MIB).toFixed(1)} MiB (${(idlePer.hubs / KIB).toFixed(2)} KiB each). Here both run in one workerd process (in two
isolates, as on Cloudflare); on Cloudflare the SSE responses are spread over the Worker isolates of
many machines, and the hubs' share is released when they hibernate.

1,000 idle subscribers on a fresh account, three times (RSS read 2 s after opening, then again after a
full GC of both isolates; heaps after the GC):

| run | connected | workerd RSS, no GC | workerd RSS, after GC | Worker heap per subscriber | hubs' heap per subscriber |
| --- | --- | --- | --- | --- | --- |
${idleTable}
`;
    return { rows, section };
  },
};
