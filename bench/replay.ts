// Replay: a client 10,000 events behind reconnects with Last-Event-ID and catches up, against
// reading as many entries of the same size from a Redis Stream.
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { type Bench, ms, type Suite } from './lib/bench';
import { monotonicMs } from './lib/clients';
import { call, median, sleep } from './lib/http';
import { Subscriber } from './lib/sse-client';

export const replaySuite: Suite = {
  name: 'replay',
  async run(b: Bench) {
    const behind = b.quick ? 2_000 : 10_000;
    const runs = Math.max(5, b.repeats);
    const account = await b.account();
    const card = JSON.parse(b.cardJson) as Record<string, unknown> & { sla: Record<string, unknown> };
    // A resolved card: its clocks stopped, so the 10,000 cards arm no SLA or re-escalation timers
    // (an open one would, and they would all fall due together in the middle of a later suite).
    const resolved = {
      ...card,
      status: 'resolved',
      next_level_at: null,
      sla: { ...card.sla, pickup: 'met', resolve: 'met' },
    };
    // The log is filled straight through the hub's publish, 500 events a call (as the outbox
    // relay publishes a backlog), each a real card of its own id.
    for (let i = 0; i < behind; i += 500) {
      const events = Array.from({ length: Math.min(500, behind - i) }, () => ({
        key: randomUUID(),
        topic: 'escalations',
        type: 'escalation.resolved',
        data: { card: { ...resolved, id: randomUUID() }, version: 2 },
      }));
      const res = await call(b.runtime.publisherUrl, 'POST', '/', {
        body: { account: account.accountId, events },
      });
      if (res.status !== 200) throw new Error(`publish answered ${res.status}: ${res.text.slice(0, 200)}`);
    }
    const last = (
      (await call(b.runtime.url, 'GET', '/v1/escalations?limit=1', { token: account.token })).json as {
        last_event_id: number;
      }
    ).last_event_id;
    const from = last - behind;
    const times: number[] = [];
    let gaps = 0;
    let duplicates = 0;
    let received = 0;
    for (let r = 0; r < runs; r++) {
      const sub = new Subscriber({
        base: b.runtime.url,
        path: '/v1/escalations/stream',
        token: account.token,
        lastEventId: from,
      });
      const t = monotonicMs();
      await sub.open();
      const deadline = Date.now() + 30_000;
      while ((sub.lastId ?? 0) < last && Date.now() < deadline) await sleep(1);
      times.push(monotonicMs() - t);
      // Logged frames only: the stream also sends ephemeral `presence` frames, which carry no id.
      received += sub.logged;
      gaps += sub.gaps + (sub.lastId === last ? 0 : 1);
      duplicates += sub.duplicates;
      sub.close();
      await sleep(200);
    }
    // Redis Streams, XRANGE in pages of 1,000 entries of the same size.
    const r = createClient({ url: b.redisUrl });
    r.on('error', () => {});
    await r.connect();
    const key = `bench:replay:${randomUUID()}`;
    for (let i = 0; i < behind; i += 500) {
      const m = r.multi();
      for (let j = i; j < Math.min(behind, i + 500); j++)
        m.xAdd(key, '*', { type: 'escalation.resolved', data: b.cardJson });
      await m.exec();
    }
    const redisTimes: number[] = [];
    for (let rep = 0; rep < runs; rep++) {
      const t = monotonicMs();
      let cursor = '-';
      let got = 0;
      for (;;) {
        const page = (await r.xRange(key, cursor, '+', { COUNT: 1000 })) ?? [];
        if (cursor !== '-') page.shift();
        got += page.length;
        if (page.length === 0 || got >= behind) break;
        cursor = (page.at(-1) as { id: string }).id;
      }
      redisTimes.push(monotonicMs() - t);
    }
    await r.del(key);
    await r.quit();
    const t = median(times);
    const worst = Math.max(...times);
    const ok = worst < 100 && gaps === 0 && duplicates === 0 && received === runs * behind;
    return {
      rows: [
        {
          comparison: `Replay: ${behind.toLocaleString('en')} events behind → caught up (median of ${runs}; gaps ${gaps}, duplicates ${duplicates})`,
          switchboard: `${ms(t)} ms (max ${ms(worst)} ms)`,
          peer: `Redis Streams XRANGE ${ms(median(redisTimes))} ms`,
          ratio: `${(t / median(redisTimes)).toFixed(1)}×`,
          target: '< 100 ms',
          result: ok ? 'met' : 'missed',
          ...(ok
            ? {}
            : {
                cause: `${behind.toLocaleString('en')} frames of ${(b.cardJson.length / 1024).toFixed(1)} KiB (${((behind * b.cardJson.length) / 2 ** 20).toFixed(1)} MiB) go hub → Worker in pages of 256 KiB, each asked for when the client's queue is half empty, then are parsed by the client`,
              }),
        },
      ],
      section: `## Replay

A client ${behind.toLocaleString('en')} events behind reconnects with \`Last-Event-ID\`; timed from the request until the
frame with the newest id is parsed (in the harness process). Runs: ${times.map(ms).join(', ')} ms (frames received
${received.toLocaleString('en')} of ${(runs * behind).toLocaleString('en')}; gaps ${gaps}, duplicates ${duplicates}). The log was filled
through the hub's publish, 500 events a call, with real cards of ${(b.cardJson.length / 1024).toFixed(1)} KiB. Reference: the same
number of entries of the same size from a Redis Stream with \`XRANGE\` in pages of 1,000: ${redisTimes.map(ms).join(', ')} ms.
`,
    };
  },
};
