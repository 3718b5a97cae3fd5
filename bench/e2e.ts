// End to end: POST a handoff → the event parsed by every subscriber, Switchboard against the peer
// stack (bench/peer/server.ts: Node HTTP + SSE, a pg pool on the same server, the same INSERT,
// Redis pub/sub). The same client processes, the same card, interleaved repeats. Also the CPU
// each side burns per frame delivered, and when the create's 201 comes relative to the frames.
import { type Bench, ms, type Row, ratioRow, type Suite } from './lib/bench';
import { type FanoutRun, type FanoutSystem, measureFanout, medianOf } from './lib/fanout';
import { pidsOf } from './lib/proc';

export const e2eSuite: Suite = {
  name: 'e2e',
  async run(b: Bench) {
    const plan: [number, number, number][] = b.quick
      ? [
          [100, 10, 20],
          [1000, 5, 10],
        ]
      : [
          [100, 40, 100],
          [1000, 15, 30],
        ];
    const pool = await b.clients(b.quick ? 2 : 4);
    const peer = await b.peer();
    const rows: Row[] = [];
    const table: string[] = [];
    const cpuTable: string[] = [];
    const redisPids = pidsOf('redis-server');
    for (const [n, lat, burst] of plan) {
      const sbAccount = await b.account();
      const peerAccount = await b.account(); // its session row is in the same database; the peer writes there
      const sbGroup = `e2e-sb-${n}`;
      const peerGroup = `e2e-peer-${n}`;
      const opened = await pool.open(sbGroup, n, {
        sse: {
          base: b.runtime.url,
          path: '/v1/escalations/stream',
          token: sbAccount.token,
          events: ['escalation.created'],
        },
      });
      const peerOpened = await pool.open(peerGroup, n, {
        sse: {
          base: peer.url,
          path: '/v1/escalations/stream',
          token: peerAccount.token,
          events: ['escalation.created'],
        },
      });
      b.log(
        `e2e ${n}: ${opened.connected} Switchboard and ${peerOpened.connected} peer SSE subscribers open`,
      );
      const sb: FanoutSystem = {
        label: 'Switchboard',
        group: sbGroup,
        publish: (mark) => b.postHandoff(b.runtime.url, sbAccount.token, sbAccount.sessionId, mark),
        pids: () => [b.runtime.pid()].filter((p): p is number => p !== undefined),
        // Each card's AI assessment (a job in the hub, then a second event to everyone) runs
        // between timed events, not during the next one.
        settleMs: n >= 1000 ? 300 : 60,
      };
      const pe: FanoutSystem = {
        label: 'peer',
        group: peerGroup,
        publish: (mark) => b.postHandoff(peer.url, peerAccount.token, peerAccount.sessionId, mark),
        pids: () => [peer.pid, ...redisPids],
        settleMs: n >= 1000 ? 300 : 60,
      };
      const runs: { sb: FanoutRun[]; pe: FanoutRun[] } = { sb: [], pe: [] };
      for (let r = 0; r < b.repeats; r++) {
        const order = r % 2 === 0 ? (['sb', 'pe'] as const) : (['pe', 'sb'] as const);
        for (const which of order)
          runs[which].push(await measureFanout(pool, which === 'sb' ? sb : pe, n, lat, burst, b.mark));
        const s = runs.sb.at(-1) as FanoutRun;
        const p = runs.pe.at(-1) as FanoutRun;
        b.log(
          `e2e ${n} repeat ${r + 1}: switchboard p50 ${ms(s.p50)} p99 ${ms(s.p99)} ms, 201 ${ms(s.publishP50)} ms, ${s.cpuPerFrameUs.toFixed(0)} µs CPU/frame; peer p50 ${ms(p.p50)} p99 ${ms(p.p99)} ms, 201 ${ms(p.publishP50)} ms, ${p.cpuPerFrameUs.toFixed(0)} µs CPU/frame`,
        );
      }
      const sbStats = await pool.stats(sbGroup);
      const peStats = await pool.stats(peerGroup);
      await pool.close(sbGroup);
      await pool.close(peerGroup);
      await b.reapClosedStreams();
      const sbLost = runs.sb.reduce((a, r) => a + r.lost, 0) + sbStats.gaps;
      const peLost = runs.pe.reduce((a, r) => a + r.lost, 0) + peStats.gaps;
      const m = (list: FanoutRun[], f: (r: FanoutRun) => number) => medianOf(list, f);
      const spread = `the first subscriber has the event at ${ms(m(runs.sb, (r) => r.firstP50))} ms (the peer's at ${ms(m(runs.pe, (r) => r.firstP50))} ms), the last at ${ms(m(runs.sb, (r) => r.lastP50))} ms (${ms(m(runs.pe, (r) => r.lastP50))} ms); the 201 at ${ms(m(runs.sb, (r) => r.publishP50))} ms (${ms(m(runs.pe, (r) => r.publishP50))} ms)`;
      for (const [pick, what] of [
        [(r: FanoutRun) => r.p50, 'p50'],
        [(r: FanoutRun) => r.p99, 'p99'],
      ] as const) {
        rows.push(
          ratioRow(
            `End to end ${what}, ${n.toLocaleString('en')} subscribers (POST handoff → SSE frame parsed); lost + duplicates ${sbLost + sbStats.duplicates} (peer ${peLost + peStats.duplicates})`,
            m(runs.sb, pick),
            m(runs.pe, pick),
            'peer',
            1.5,
            'ms',
            spread,
            sbLost + sbStats.duplicates === 0,
          ),
        );
      }
      const sbCpu = m(runs.sb, (r) => r.cpuPerFrameUs);
      const peCpu = m(runs.pe, (r) => r.cpuPerFrameUs);
      rows.push(
        ratioRow(
          `CPU per delivered frame, ${n.toLocaleString('en')} subscribers, one event at a time (workerd vs peer Node + redis-server)`,
          sbCpu,
          peCpu,
          'peer',
          2,
          'µs',
          `per frame Switchboard sends it twice (the hub's WebSocket message, then the Worker's SSE write, both in this process) and also assesses each card and delivers that event; in a burst the figure is ${m(runs.sb, (r) => r.burstCpuPerFrameUs).toFixed(0)} µs (peer ${m(runs.pe, (r) => r.burstCpuPerFrameUs).toFixed(0)} µs)`,
        ),
      );
      for (const [label, list, lost, dup] of [
        ['Switchboard (workerd)', runs.sb, sbLost, sbStats.duplicates],
        ['peer (Node + Redis)', runs.pe, peLost, peStats.duplicates],
      ] as const) {
        table.push(
          `| ${n.toLocaleString('en')} | ${label} | ${ms(m(list, (r) => r.p50))} | ${ms(m(list, (r) => r.p99))} | ${ms(m(list, (r) => r.publishP50))} | ${ms(m(list, (r) => r.firstP50))} / ${ms(m(list, (r) => r.lastP50))} | ${m(list, (r) => r.deliveriesPerSec).toFixed(0)} | ${list.reduce((a, r) => a + r.delivered, 0)} / ${list.reduce((a, r) => a + r.expected, 0)} | ${lost} / ${dup} |`,
        );
        cpuTable.push(
          `| ${n.toLocaleString('en')} | ${label} | ${m(list, (r) => r.cpuPerFrameUs).toFixed(1)} | ${m(list, (r) => r.burstCpuPerFrameUs).toFixed(1)} |`,
        );
      }
    }
    const section = `## End to end: POST handoff → every subscriber, against a Node peer stack

Switchboard: \`POST /v1/sessions/:id/handoffs\` to workerd's own socket (the Worker verifies the
JWT, writes the handoff, its card and its outbox row in one statement over the Neon driver's HTTP
path, calls the hub, which logs the event and answers; the 201 goes out, the hub fans out, each
Worker holding a subscriber writes its SSE response). The peer (\`bench/peer/server.ts\`, one Node
process): node:http, the same JWT check, a \`pg\` pool (10) on the same PostgreSQL, the same INSERT
and card (Switchboard's card builder; no outbox row), \`PUBLISH\` to Redis, one \`PSUBSCRIBE\`
connection, and one shared SSE string written to each response. Same client processes, same card
size, repeats interleaved. Switchboard also assesses each card (a job in the hub) and delivers
\`escalation.assessed\`; timed events are spaced so that runs between them, and CPU counts every
frame the clients received, the assessed ones included.

| subscribers | system | p50 ms | p99 ms | POST → 201 p50 ms | first / last subscriber p50 ms | deliveries/s (burst) | delivered / expected | lost / duplicates |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${table.join('\n')}

CPU per frame received by the clients (user + system time from /proc: workerd, which runs the Worker
and every hub here; the peer's Node process plus redis-server; Postgres and the clients excluded):

| subscribers | system | µs per frame, one event at a time | µs per frame, burst of 8 publishers |
| --- | --- | --- | --- |
${cpuTable.join('\n')}
`;
    return { rows, section };
  },
};
