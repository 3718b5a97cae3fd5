// Outbound webhooks (issue 13, docs/webhooks.md): how fast one hub delivers, beside a Node process
// signing and POSTing the same bodies to the same receiver; and what 5 configured endpoints add to
// a handoff create, against the same create on an account with none, interleaved in the same run
// (nothing is expected: delivery runs from the hub's alarm, never on the request's path).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EscalationCard } from '../worker/contract/events';
import { signatureHeader } from '../worker/webhooks/signing';
import { type Account, type Bench, ms, type Row, type Suite } from './lib/bench';
import { monotonicMs } from './lib/clients';
import { call, median, percentile, sleep } from './lib/http';

/** The receiver's answer time in the create comparison: a delivery on the path would add it. */
const SLOW_MS = 50;
/** Between two timed creates (each card's assessment runs in the hub right after; see create.ts). */
const PAUSE_MS = 60;
/**
 * Deliveries one hub has out at once (DELIVERIES_IN_FLIGHT in worker/webhooks/webhooks-module.ts;
 * 3 per endpoint, and the suite has 2): the Node sender gets as many.
 */
const CONCURRENCY = 6;

/** A Node receiver on loopback that answers 200, at once or after `delayMs`. */
async function receiver(delayMs: number) {
  let count = 0;
  let first = 0;
  let last = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      const now = monotonicMs();
      if (!first) first = now;
      last = now;
      const answer = () => res.writeHead(200).end('ok');
      if (delayMs) setTimeout(answer, delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    stats: () => ({ count, first, last }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function register(b: Bench, a: Account, url: string, events: string[]): Promise<string> {
  const res = await call(b.runtime.url, 'POST', '/v1/webhooks', {
    token: a.adminToken,
    body: { url, events },
  });
  if (res.status !== 201)
    throw new Error(`webhook register answered ${res.status}: ${res.text.slice(0, 200)}`);
  return (res.json as { secret: string }).secret;
}

async function waitForCount(stats: () => { count: number }, expected: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (stats().count < expected && Date.now() < deadline) await sleep(20);
}

interface Throughput {
  delivered: number;
  expected: number;
  /** First delivery received → last. */
  seconds: number;
  perSecond: number;
}

/**
 * `events` `escalation.resolved` events go into one account's log through the hub's publish (500
 * a call, as the outbox relay delivers a backlog), each for `endpoints` endpoints on a receiver
 * that answers at once; then the same number of deliveries from a Node process.
 */
export async function throughput(b: Bench, events: number, endpoints: number) {
  const fast = await receiver(0);
  const a = await b.account();
  let secret = '';
  for (let i = 0; i < endpoints; i++) secret = await register(b, a, fast.url, ['escalation.resolved']);
  const card = JSON.parse(b.cardJson) as EscalationCard;
  // Resolved cards: the hub arms no timer for them.
  const cards: EscalationCard[] = Array.from({ length: events }, () => ({
    ...card,
    id: randomUUID(),
    status: 'resolved',
  }));
  for (let i = 0; i < events; i += 500) {
    const batch = cards.slice(i, i + 500).map((c) => ({
      key: randomUUID(),
      topic: 'escalations',
      type: 'escalation.resolved',
      data: { card: c, version: c.version },
    }));
    const res = await call(b.runtime.publisherUrl, 'POST', '/', {
      body: { account: a.accountId, events: batch },
    });
    if (res.status !== 200) throw new Error(`hub publish answered ${res.status}: ${res.text.slice(0, 200)}`);
  }
  const expected = events * endpoints;
  await waitForCount(fast.stats, expected, 300_000);
  const s = fast.stats();
  await fast.close();
  const hub: Throughput = {
    delivered: s.count,
    expected,
    seconds: (s.last - s.first) / 1000,
    perSecond: s.count / Math.max((s.last - s.first) / 1000, 0.001),
  };

  // The same deliveries from Node: the same body, signed by the same code, POSTed over a
  // keep-alive connection, CONCURRENCY at a time; no job table and no attempt log.
  const node = await receiver(0);
  const base = node.url.replace(/\/hook$/, '');
  let next = 0;
  const sender = async () => {
    for (let i = next++; i < expected; i = next++) {
      const c = cards[Math.floor(i / endpoints)] as EscalationCard;
      const body = JSON.stringify({
        type: 'escalation.resolved',
        timestamp: new Date().toISOString(),
        data: { card: c, version: c.version },
      });
      const id = `msg_${randomUUID().replace(/-/g, '')}`;
      const ts = Math.floor(Date.now() / 1000);
      const res = await call(base, 'POST', '/hook', {
        rawBody: body,
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(ts),
          'webhook-signature': await signatureHeader([secret], id, ts, body),
        },
      });
      if (res.status !== 200) throw new Error(`receiver answered ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
  const n = node.stats();
  await node.close();
  const peer: Throughput = {
    delivered: n.count,
    expected,
    seconds: (n.last - n.first) / 1000,
    perSecond: n.count / Math.max((n.last - n.first) / 1000, 0.001),
  };
  return { hub, peer };
}

type Side = 'none' | 'twin' | 'five';
type CreateRun = Record<Side, { p50: number; p99: number }>;

export const webhooksSuite: Suite = {
  name: 'webhooks',
  async run(b: Bench) {
    const events = b.quick ? 300 : 2_000;
    const endpoints = 2;
    const perRun = b.quick ? 20 : 100;

    const tp: { hub: Throughput; peer: Throughput }[] = [];
    for (let r = 0; r < (b.quick ? 1 : b.repeats); r++) {
      tp.push(await throughput(b, events, endpoints));
      const last = tp.at(-1) as (typeof tp)[number];
      b.log(
        `webhooks throughput repeat ${r + 1}: hub ${last.hub.perSecond.toFixed(0)} deliveries/s (${last.hub.delivered}/${last.hub.expected}), Node ${last.peer.perSecond.toFixed(0)}/s`,
      );
    }

    // Create with 5 endpoints and with 0, interleaved; a second account without endpoints (the
    // twin) shows how far two identical accounts differ in the same run. The receiver answers after
    // SLOW_MS.
    const slow = await receiver(SLOW_MS);
    const accounts: Record<Side, Account> = {
      none: await b.account(),
      twin: await b.account(),
      five: await b.account(),
    };
    for (let i = 0; i < 5; i++) await register(b, accounts.five, slow.url, ['escalation.*']);
    let creates = 0;
    const post = async (side: Side, i: number) => {
      const who = accounts[side];
      const t = monotonicMs();
      const res = await call(b.runtime.url, 'POST', `/v1/sessions/${who.sessionId}/handoffs`, {
        token: who.token,
        body: { intent: 'escalate', reason: `webhook bench ${i}`, severity: 'normal' },
      });
      const took = monotonicMs() - t;
      if (res.status !== 201) throw new Error(`handoff answered ${res.status}: ${res.text.slice(0, 200)}`);
      if (side === 'five') creates++;
      await sleep(PAUSE_MS);
      return took;
    };
    const sides: Side[] = ['none', 'five', 'twin'];
    for (let i = 0; i < 10; i++) for (const side of sides) await post(side, i);
    const runs: CreateRun[] = [];
    // Every timed create of each side, all repeats together: the sides take turns round by round,
    // so whatever else loads the machine meanwhile falls on all three alike.
    const all: Record<Side, number[]> = { none: [], twin: [], five: [] };
    let inFlight = 0;
    for (let r = 0; r < b.repeats; r++) {
      const t: Record<Side, number[]> = { none: [], twin: [], five: [] };
      for (let i = 0; i < perRun; i++) {
        // Each side takes each place in turn.
        const order = [...sides.slice(i % 3), ...sides.slice(0, i % 3)];
        for (const side of order) t[side].push(await post(side, i));
        // Deliveries of the creates so far that had not reached the receiver when this round ended.
        inFlight = Math.max(inFlight, creates * 2 * 5 - slow.stats().count);
      }
      const s = (xs: number[]) => {
        const sorted = [...xs].sort((x, y) => x - y);
        return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
      };
      runs.push({ none: s(t.none), twin: s(t.twin), five: s(t.five) });
      for (const side of sides) all[side].push(...t[side]);
      const cur = runs.at(-1) as CreateRun;
      b.log(
        `webhooks create repeat ${r + 1}: p50 5 endpoints ${ms(cur.five.p50)} ms, none ${ms(cur.none.p50)} ms, twin ${ms(cur.twin.p50)} ms; p99 ${ms(cur.five.p99)} / ${ms(cur.none.p99)} / ${ms(cur.twin.p99)} ms`,
      );
    }
    // Each create of `five` is two events (created, then assessed) for 5 endpoints.
    const expectedSlow = creates * 2 * 5;
    await waitForCount(slow.stats, expectedSlow, 120_000);
    const slowDelivered = slow.stats().count;
    await slow.close();

    const m = <T>(list: T[], f: (x: T) => number) => median(list.map(f));
    const hubRate = m(tp, (x) => x.hub.perSecond);
    const nodeRate = m(tp, (x) => x.peer.perSecond);
    const lost = tp.reduce((a, x) => a + x.hub.expected - x.hub.delivered, 0);
    const pooled = (side: Side) => [...all[side]].sort((x, y) => x - y);
    const p50 = (side: Side) => percentile(pooled(side), 50);
    const p99 = (side: Side) => percentile(pooled(side), 99);
    // The baseline: both accounts without endpoints.
    const baseline = (p50('none') + p50('twin')) / 2;
    const added = p50('five') - baseline;
    const limit = 1.1;
    const createMet = p50('five') / baseline <= limit && slowDelivered === expectedSlow;
    const rows: Row[] = [
      {
        comparison: `Webhook deliveries from one hub (${events.toLocaleString('en')} events × ${endpoints} endpoints, a loopback receiver answering at once); not delivered ${lost}`,
        switchboard: `${hubRate.toFixed(0)} deliveries/s`,
        peer: `Node sender (the same bodies, the same signing, ${CONCURRENCY} at a time, no job table or attempt log) ${nodeRate.toFixed(0)} deliveries/s`,
        ratio: `${(hubRate / nodeRate).toFixed(2)}×`,
        target: 'none in issue 13 (reported); 0 lost',
        result: lost === 0 ? 'reported' : 'missed',
        ...(lost === 0 ? {} : { cause: `${lost} deliveries had not arrived after 300 s` }),
      },
      {
        comparison: `Handoff create p50 with 5 webhook endpoints (receiver answering after ${SLOW_MS} ms) vs none, interleaved; ${slowDelivered} of ${expectedSlow} deliveries arrived, up to ${inFlight} still to arrive during the creates`,
        switchboard: `${ms(p50('five'))} ms (added ${ms(added)} ms)`,
        peer: `the same create on two accounts with 0 endpoints, interleaved: ${ms(p50('none'))} and ${ms(p50('twin'))} ms`,
        ratio: `${(p50('five') / baseline).toFixed(2)}×`,
        target: `no added latency (≤ ${limit}×: delivery is off the request's path; one on it would add ${SLOW_MS} ms)`,
        result: createMet ? 'met' : 'missed',
        ...(createMet
          ? {}
          : {
              cause: `${ms(added)} ms more at p50 (p99 ${ms(p99('five'))} vs ${ms(p99('none'))} / ${ms(p99('twin'))} ms; the two accounts without endpoints differ by ${ms(Math.abs(p50('none') - p50('twin')))} ms): the publish matches the event to 5 endpoints and enqueues 5 jobs in the hub's SQLite before the 201, and the same hub is sending the earlier creates' deliveries on the same workerd thread${slowDelivered === expectedSlow ? '' : `; ${expectedSlow - slowDelivered} deliveries did not arrive`}`,
            }),
      },
    ];
    const tpLine = (x: { hub: Throughput; peer: Throughput }, i: number) =>
      `| ${i + 1} | ${x.hub.delivered} / ${x.hub.expected} | ${x.hub.seconds.toFixed(2)} | ${x.hub.perSecond.toFixed(0)} | ${x.peer.seconds.toFixed(2)} | ${x.peer.perSecond.toFixed(0)} |`;
    const createLine = (x: CreateRun, i: number) =>
      `| ${i + 1} | ${ms(x.five.p50)} / ${ms(x.five.p99)} | ${ms(x.none.p50)} / ${ms(x.none.p99)} | ${ms(x.twin.p50)} / ${ms(x.twin.p99)} |`;
    const section = `## Outbound webhooks

Throughput: ${events.toLocaleString('en')} \`escalation.resolved\` events go into one account's log through the
hub's publish (500 a call, as the outbox relay delivers a backlog), each for ${endpoints} endpoints on a Node
receiver on loopback that answers 200 at once. The hub enqueues one delivery job per event and
endpoint inside the publish; its alarm starts them in the background, ${CONCURRENCY} out at a time (the body built, signed with
WebCrypto, POSTed, the attempt recorded in the hub's SQLite with the job's completion; the attempts
reach Postgres in batches). Deliveries per second from the first received to the last. Beside it, a
Node process sends as many deliveries of the same body, signed by the same code, to a new receiver
of the same kind, ${CONCURRENCY} at a time, with nothing recorded.

| repeat | hub: delivered / expected | hub: seconds | hub: deliveries/s | Node: seconds | Node: deliveries/s |
| --- | --- | --- | --- | --- | --- |
${tp.map(tpLine).join('\n')}

Create latency: ${perRun} creates per repeat on each of three accounts in turn (each takes each place in
the round in turn, ${PAUSE_MS} ms apart, after a warm-up of 10 each; the summary's figures are over every
repeat's creates together): one with 5 endpoints subscribed to
\`escalation.*\` whose receiver answers after ${SLOW_MS} ms, so that each create there leaves 10 deliveries
(its \`created\` and \`assessed\` events) that are sent while the next creates are timed (up to ${inFlight}
still to arrive at once; ${slowDelivered} of ${expectedSlow} arrived in the end), and two without endpoints, whose
difference is how far two identical accounts drift apart in the same run. The ratio in the summary is
against the mean of those two. A delivery on the request's path would add at least ${SLOW_MS} ms.

| repeat | 5 endpoints p50 / p99 ms | 0 endpoints p50 / p99 ms | 0 endpoints (twin) p50 / p99 ms |
| --- | --- | --- | --- |
${runs.map(createLine).join('\n')}
`;
    return { rows, section };
  },
};
