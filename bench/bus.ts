// Bus only: an event published straight into the account hub (the bench publisher Worker calls
// the hub's publish over RPC, as the Worker does after a commit) → every SSE subscriber, against
// Redis PUBLISH → every SUBSCRIBE client. Same message size (a real card's JSON), the same client
// processes, interleaved repeats. No database on either side.
import { createClient } from 'redis';
import { type Bench, ms, type Row, ratioRow, type Suite } from './lib/bench';
import { type FanoutRun, type FanoutSystem, measureFanout, medianOf } from './lib/fanout';
import { pidsOf } from './lib/proc';

const TARGETS: Record<number, number> = { 100: 3, 1000: 5 };

export const busSuite: Suite = {
  name: 'bus',
  async run(b: Bench) {
    const plan: [number, number, number][] = b.quick
      ? [
          [100, 10, 20],
          [1000, 5, 10],
        ]
      : [
          [100, 50, 100],
          [1000, 20, 40],
        ];
    const pool = await b.clients(b.quick ? 2 : 4);
    const publisher = createClient({ url: b.redisUrl });
    publisher.on('error', () => {});
    await publisher.connect();
    const rows: Row[] = [];
    const table: string[] = [];
    try {
      for (const [n, lat, burst] of plan) {
        const account = await b.account();
        const channel = `bench:bus:${account.accountId}`;
        const sbGroup = `bus-sb-${n}`;
        const rdGroup = `bus-redis-${n}`;
        const opened = await pool.open(sbGroup, n, {
          sse: {
            base: b.runtime.url,
            path: '/v1/escalations/stream',
            token: account.token,
            events: ['escalation.resolved'],
          },
        });
        await pool.open(rdGroup, n, { redis: { url: b.redisUrl, channel } });
        b.log(`bus ${n}: ${opened.connected} SSE and ${n} Redis subscribers open`);
        const sb: FanoutSystem = {
          label: 'Switchboard hub',
          group: sbGroup,
          publish: (mark) => b.publishToHub(account.accountId, mark),
          pids: () => [b.runtime.pid()].filter((p): p is number => p !== undefined),
        };
        const rd: FanoutSystem = {
          label: 'Redis pub/sub',
          group: rdGroup,
          publish: async (mark) => {
            await publisher.publish(channel, b.markedCard(mark));
          },
          pids: () => pidsOf('redis-server'),
        };
        const runs: { sb: FanoutRun[]; rd: FanoutRun[] } = { sb: [], rd: [] };
        for (let r = 0; r < b.repeats; r++) {
          // Interleaved, alternating who goes first, so load on the machine hits both alike.
          const order = r % 2 === 0 ? (['sb', 'rd'] as const) : (['rd', 'sb'] as const);
          for (const which of order) {
            const system = which === 'sb' ? sb : rd;
            runs[which].push(await measureFanout(pool, system, n, lat, burst, b.mark));
          }
          const s = runs.sb.at(-1) as FanoutRun;
          const d = runs.rd.at(-1) as FanoutRun;
          b.log(
            `bus ${n} repeat ${r + 1}: hub p50 ${ms(s.p50)} p99 ${ms(s.p99)} ms (lost ${s.lost}); redis p50 ${ms(d.p50)} p99 ${ms(d.p99)} ms (lost ${d.lost})`,
          );
        }
        const stats = await pool.stats(sbGroup);
        await pool.close(sbGroup);
        await pool.close(rdGroup);
        await b.reapClosedStreams();
        const lost = runs.sb.reduce((a, r) => a + r.lost, 0) + stats.gaps;
        const dup = stats.duplicates;
        const limit = TARGETS[n];
        const sbP99 = medianOf(runs.sb, (r) => r.p99);
        const rdP99 = medianOf(runs.rd, (r) => r.p99);
        if (limit !== undefined) {
          const first = medianOf(runs.sb, (r) => r.firstP50);
          const last = medianOf(runs.sb, (r) => r.lastP50);
          rows.push(
            ratioRow(
              `Bus only, p99, ${n.toLocaleString('en')} subscribers (event into the hub → SSE frame parsed); lost + duplicates ${lost + dup}`,
              sbP99,
              rdP99,
              'Redis pub/sub',
              limit,
              'ms',
              `the spread across subscribers: the first gets the event at ${ms(first)} ms, the last at ${ms(last)} ms (p50 over events); one workerd thread sends ${n} WebSocket messages in the hub${n > 500 ? ' and its relay' : ''} and the Worker writes ${n} SSE responses, one after another${lost + dup ? `; lost + duplicates ${lost + dup}` : ''}`,
              lost + dup === 0,
            ),
          );
        }
        for (const [label, list] of [
          ['Switchboard hub → Worker SSE', runs.sb],
          ['Redis pub/sub', runs.rd],
        ] as const) {
          table.push(
            `| ${n.toLocaleString('en')} | ${label} | ${ms(medianOf(list, (r) => r.p50))} | ${ms(medianOf(list, (r) => r.p99))} | ${ms(medianOf(list, (r) => r.firstP50))} / ${ms(medianOf(list, (r) => r.lastP50))} | ${medianOf(list, (r) => r.deliveriesPerSec).toFixed(0)} | ${list.reduce((a, r) => a + r.delivered, 0)} / ${list.reduce((a, r) => a + r.expected, 0)} | ${label.startsWith('Switch') ? `${lost} / ${dup}` : `${list.reduce((a, r) => a + r.lost, 0)} / —`} |`,
          );
        }
      }
    } finally {
      await publisher.quit().catch(() => {});
    }
    const section = `## Bus only: an event into the hub vs Redis pub/sub

The event is published straight into the account hub: the bench's publisher Worker (in the same
workerd) calls the hub's \`publish\` over Durable Object RPC, exactly as the Worker does after a
commit; the hub logs it in SQLite, answers, then sends it to each subscriber's hibernatable
WebSocket, and the Worker holding each subscriber copies it into its SSE response (past 500
subscribers half of them are behind a relay hub). Redis: \`PUBLISH\` of the same card JSON to N
\`SUBSCRIBE\`d connections. Subscribers live in ${pool.size} client processes. Latency: one event
at a time, each waited for on every subscriber, every delivery a sample; deliveries/s: a burst from
8 concurrent publishers. ${b.repeats} repeats, interleaved, median of the per-repeat figures. No
database on either side. Plan: ${plan.map(([n, l, u]) => `${n} subscribers: ${l} timed events + a burst of ${u}`).join('; ')}.

| subscribers | system | p50 ms | p99 ms | first / last subscriber p50 ms | deliveries/s | delivered / expected | lost / duplicates |
| --- | --- | --- | --- | --- | --- | --- | --- |
${table.join('\n')}
`;
    return { rows, section };
  },
};
