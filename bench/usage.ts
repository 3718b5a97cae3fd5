// The counts docs/cost.md turns into a bill: what one escalation and one run cost in Worker
// requests, hub (Durable Object) calls, events, deliveries, hub storage, Postgres statements and
// CPU time, read from GET /v1/usage (the product's own counters), /proc and the Neon bridge.
import pg from 'pg';
import { type Bench, ms, type Suite } from './lib/bench';
import { call, type Reply, sleep } from './lib/http';
import { cpuMs } from './lib/proc';
import { Subscriber } from './lib/sse-client';

interface UsageAnswer {
  subscribers_now: number;
  hub_storage_bytes: number;
  per_day: {
    events_published: number;
    deliveries: number;
    runs_started: number;
    nodes_executed: number;
    hub_wakeups: number;
  }[];
}

const GRAPH = {
  entry: 'intake',
  nodes: [
    { id: 'intake', type: 'transform', set: { stage: 'triage' } },
    { id: 'classify', type: 'llm', prompt: 'Classify: {{topic}}', output_key: 'category' },
    { id: 'answer', type: 'llm', prompt: 'Answer {{topic}} as {{category}}', output_key: 'answer' },
    { id: 'done', type: 'transform', set: { stage: 'answered' } },
  ],
  edges: [
    { from: 'intake', to: 'classify' },
    { from: 'classify', to: 'answer' },
    { from: 'answer', to: 'done' },
    { from: 'done', to: '__end__' },
  ],
};

/** A call of the API as the account's engineer (or another token). */
export type Api = (method: string, path: string, body?: unknown, token?: string) => Promise<Reply>;

/** The engineers' queues: `n` streams of the escalation log, each opened after its snapshot. */
export async function openQueues(
  api: Api,
  opts: { base: string; token: string; n: number; onOpen?: () => void },
): Promise<Subscriber[]> {
  const subs: Subscriber[] = [];
  for (let i = 0; i < opts.n; i++) {
    const snap = await api('GET', '/v1/escalations');
    const s = new Subscriber({
      base: opts.base,
      path: '/v1/escalations/stream',
      token: opts.token,
      lastEventId: (snap.json as { last_event_id: number }).last_event_id,
    });
    opts.onOpen?.();
    await s.open();
    subs.push(s);
  }
  return subs;
}

/** `n` escalations of one session, each created (its assessment follows in the hub), picked up and resolved. */
export async function escalationCycles(api: Api, sessionId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const h = await api('POST', `/v1/sessions/${sessionId}/handoffs`, {
      intent: 'escalate',
      reason: `usage ${i}`,
      severity: 'high',
    });
    const id = (h.json as { id: string }).id;
    await sleep(200);
    await api('POST', `/v1/handoffs/${id}/pickup`);
    await api('POST', `/v1/handoffs/${id}/resolve`);
  }
}

export const usageSuite: Suite = {
  name: 'usage',
  async run(b: Bench) {
    const SUBSCRIBERS = 50;
    const E = b.quick ? 5 : 40;
    const R = b.quick ? 5 : 40;
    const account = await b.account();
    const base = b.runtime.url;
    const pid = () => b.runtime.pid() as number;
    let requests = 0;
    const api: Api = async (method, path, body, token = account.token) => {
      requests++;
      return call(base, method, path, { token, ...(body !== undefined ? { body } : {}) });
    };
    const usage = async () =>
      (await call(base, 'GET', '/v1/usage', { token: account.adminToken })).json as UsageAnswer;
    const today = (u: UsageAnswer) => u.per_day.at(-1) as UsageAnswer['per_day'][number];
    // Every statement the Worker and its hubs sent, counted at the bridge (HTTP one-shots, and
    // Query/Execute messages on WebSocket connections), and the connections they opened.
    const size = new pg.Client({ connectionString: b.database.url });
    await size.connect();
    const statements = async () => {
      await sleep(1_000);
      const st = await b.bridgeStats();
      // The tables' size on disk (heap, indexes, TOAST), which Neon bills as storage.
      const bytes = Number(
        (
          await size.query(
            `select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as n from pg_class c
             join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r' and n.nspname = 'public'`,
          )
        ).rows[0]?.n ?? 0,
      );
      return { statements: st.httpStatements + st.wsStatements, connections: st.wsConnections, bytes };
    };
    try {
      const subs = await openQueues(api, {
        base,
        token: account.token,
        n: SUBSCRIBERS,
        onOpen: () => requests++,
      });
      await sleep(1_000);

      // Escalations: create (its assessment follows in the hub), pick up, resolve.
      const u0 = await usage();
      const x0 = await statements();
      const c0 = cpuMs(pid());
      const r0 = requests;
      await escalationCycles(api, account.sessionId, E);
      await sleep(2_000);
      const c1 = cpuMs(pid());
      const x1 = await statements();
      const u1 = await usage();
      const escRequests = requests - r0;

      // Runs: a four-node graph (two LLM calls to the fake provider), each streamed to its end.
      const g = await api('POST', '/v1/graphs', { name: `usage-${Date.now()}`, schema: GRAPH });
      if (g.status !== 201) throw new Error(`graph answered ${g.status}: ${g.text.slice(0, 200)}`);
      const graphId = (g.json as { id: string }).id;
      const r1 = requests;
      const c2 = cpuMs(pid());
      for (let i = 0; i < R; i++) {
        const run = await api('POST', `/v1/graphs/${graphId}/run`, { input: { topic: `vpn ${i}` } });
        if (run.status !== 202) throw new Error(`run answered ${run.status}: ${run.text.slice(0, 200)}`);
        const runId = (run.json as { run_id: string }).run_id;
        let done = false;
        const s = new Subscriber({
          base,
          path: `/v1/runs/${runId}/stream`,
          token: account.token,
          lastEventId: 0,
          onEvent: (f) => {
            if (f.event === 'graph_completed' || f.event === 'error') done = true;
          },
        });
        requests++;
        await s.open();
        const deadline = Date.now() + 20_000;
        while (!done && Date.now() < deadline) await sleep(5);
        s.close();
      }
      await sleep(2_000);
      const c3 = cpuMs(pid());
      const x2 = await statements();
      const u2 = await usage();
      const runRequests = requests - r1;
      for (const s of subs) s.close();

      const d = (a: UsageAnswer, z: UsageAnswer, k: keyof UsageAnswer['per_day'][number]) =>
        today(z)[k] - today(a)[k];
      const perE = (v: number) => (v / E).toFixed(1);
      const perR = (v: number) => (v / R).toFixed(1);
      const section = `## Usage counts (the inputs of docs/cost.md)

One account with ${SUBSCRIBERS} engineers' queues open (a snapshot, then a stream each). ${E} escalations,
each created, assessed (by the hub, with the fake provider), picked up and resolved; then ${R} runs of
a four-node graph (two LLM nodes, fake provider), each streamed to its end. Counts from the product's
own \`GET /v1/usage\`, workerd's CPU time from /proc, Postgres statements and new connections counted at the Neon bridge.

| per … | Worker requests | hub events | deliveries | hub wake-ups | Postgres statements (new connections) | workerd CPU | hub storage growth | Postgres growth |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
| escalation (${SUBSCRIBERS} subscribers) | ${perE(escRequests)} | ${perE(d(u0, u1, 'events_published'))} | ${perE(d(u0, u1, 'deliveries'))} | ${perE(d(u0, u1, 'hub_wakeups'))} | ${perE(x1.statements - x0.statements)} (${perE(x1.connections - x0.connections)}) | ${ms((c1 - c0) / E)} ms | ${((u1.hub_storage_bytes - u0.hub_storage_bytes) / E / 1024).toFixed(1)} KiB | ${((x1.bytes - x0.bytes) / E / 1024).toFixed(1)} KiB |
| run (4 nodes, one stream) | ${perR(runRequests)} | ${perR(d(u1, u2, 'events_published'))} | ${perR(d(u1, u2, 'deliveries'))} | ${perR(d(u1, u2, 'hub_wakeups'))} | ${perR(x2.statements - x1.statements)} (${perR(x2.connections - x1.connections)}) | ${ms((c3 - c2) / R)} ms | ${((u2.hub_storage_bytes - u1.hub_storage_bytes) / R / 1024).toFixed(1)} KiB | ${((x2.bytes - x1.bytes) / R / 1024).toFixed(1)} KiB |

Runs started ${d(u1, u2, 'runs_started')}, nodes executed ${d(u1, u2, 'nodes_executed')}; subscribers at the end ${u2.subscribers_now};
hub storage ${(u2.hub_storage_bytes / 1024).toFixed(0)} KiB. Here the hub never hibernates between events (they
come faster than its idle window), so wake-ups count only its first start.
`;
      return {
        rows: [
          {
            comparison: `Cost inputs per escalation (${SUBSCRIBERS} subscribers): Worker requests, hub events, deliveries, Postgres statements, workerd CPU`,
            switchboard: `${perE(escRequests)} req, ${perE(d(u0, u1, 'events_published'))} events, ${perE(d(u0, u1, 'deliveries'))} deliveries, ${perE(x1.statements - x0.statements)} statements (${perE(x1.connections - x0.connections)} connections), ${ms((c1 - c0) / E)} ms CPU`,
            peer: '—',
            ratio: '—',
            target: 'reported (docs/cost.md)',
            result: 'reported',
          },
        ],
        section,
      };
    } finally {
      await size.end();
    }
  },
};
