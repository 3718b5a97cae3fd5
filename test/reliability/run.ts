// npm run test:reliability: the reliability suite, against the real local stack (workerd through
// wrangler dev, embedded Postgres unless DATABASE_URL names a server), loopback only, every loop
// bounded. Asserts correctness (zero loss, zero duplicates, order, never a 500), never speed.
// LOAD_SECONDS (default 60) and FUZZ_RUNS (default 15) may be lowered for a local smoke run.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { configureNeon, pool } from '../../bench/lib/db';
import { call, sleep } from '../../bench/lib/http';
import { Subscriber } from '../../bench/lib/sse-client';
import { FUZZ_GRAPH, fuzz } from './fuzz';
import { hardening } from './hardening';
import {
  createdCounter,
  lastEventId,
  log,
  openSubscribers,
  type PhaseResult,
  runPublishers,
  settledLastId,
  statusSummary,
  verifySubscribers,
} from './lib';
import { root, type Stack, startStack } from './stack';
import { WEBHOOK_RELIABILITY_VARS, webhookReliability } from './webhooks';

const LOAD_SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 15);
const HARD_LIMIT_MS = 9 * 60_000;
const results: PhaseResult[] = [];
const started = Date.now();

// Whatever happens, never run unbounded.
const watchdog = setTimeout(() => {
  console.error('reliability: hard time limit reached; stopping');
  void stack?.stop().finally(() => process.exit(2));
}, HARD_LIMIT_MS);
watchdog.unref();

let stack: Stack | undefined;

async function phase(name: string, fn: () => Promise<Omit<PhaseResult, 'phase'>>) {
  log(`── ${name}`);
  try {
    const r = { phase: name, ...(await fn()) };
    results.push(r);
    log(`${r.ok ? 'ok' : 'FAILED'}: ${r.detail}${r.failures.length ? `\n  ${r.failures.join('\n  ')}` : ''}`);
  } catch (err) {
    results.push({
      phase: name,
      ok: false,
      detail: `threw: ${(err as Error).stack ?? String(err)}`,
      lost: 0,
      duplicates: 0,
      requests: 0,
      failures: [],
    });
    log(`FAILED (threw): ${(err as Error).stack ?? String(err)}`);
  }
}

async function newAccount(s: Stack) {
  const accountId = randomUUID();
  const token = await s.token({ acct: accountId, role: 'engineer', name: 'Reliability Engineer' });
  return { accountId, token };
}

async function newSession(s: Stack, token: string, title = 'reliability') {
  const res = await call(s.url, 'POST', '/v1/sessions', {
    token,
    body: { title, problem_summary: 'reliability suite' },
  });
  if (res.status !== 201) throw new Error(`session create answered ${res.status}: ${res.text.slice(0, 200)}`);
  return (res.json as { id: string }).id;
}

/** Each committed handoff of `sessions` has exactly one created outbox row and one created event. */
async function dbConsistency(s: Stack, sessions: string[], createdSeen: Map<string, number>) {
  configureNeon(s.wsProxy);
  const db = pool(s.databaseUrl, 1);
  try {
    const rows = (
      await db.query(
        `select h.id::text as id,
                (select count(*) from outbox o where o.event_type = 'escalation.created' and o.payload->'card'->>'id' = h.id::text)::int as outbox_rows
         from handoffs h where h.session_id = any($1::uuid[])`,
        [sessions],
      )
    ).rows as { id: string; outbox_rows: number }[];
    const halfWritten = rows.filter((r) => r.outbox_rows !== 1).map((r) => r.id);
    const notDelivered = rows.filter((r) => (createdSeen.get(r.id) ?? 0) === 0).map((r) => r.id);
    const deliveredTwice = rows.filter((r) => (createdSeen.get(r.id) ?? 0) > 1).map((r) => r.id);
    return { committed: rows.map((r) => r.id), halfWritten, notDelivered, deliveredTwice };
  } finally {
    await db.end();
  }
}

/**
 * Delivers what a fault left in the outbox, as the product does (bounded): the account's next use
 * of the database (here its queue snapshot) sweeps rows older than OUTBOX_REDELIVER_AFTER_SECONDS,
 * and the cron redelivers accounts whose Worker marked a publish that kept failing.
 */
async function relayUntilDelivered(
  s: Stack,
  token: string,
  sessions: string[],
  createdSeen: Map<string, number>,
  redeliverAfterS: number,
) {
  let c = await dbConsistency(s, sessions, createdSeen);
  for (let i = 0; i < 10 && c.notDelivered.length > 0; i++) {
    await sleep((redeliverAfterS + 1) * 1000);
    await lastEventId(s, token);
    await s.runCron();
    await sleep(500);
    c = await dbConsistency(s, sessions, createdSeen);
  }
  return c;
}

const REDELIVER_S = 2;

/**
 * The frame of a fault that strikes while handoffs are created: 4 publishers, on sessions of
 * their own, create until `fault` (which does the damage and waits out the recovery) returns;
 * what the fault left in the outbox is then relayed, and the subscribers checked.
 */
async function publishThroughFault<T>(
  s: Stack,
  opts: { subscribers: number; sessionTitle: string },
  fault: (sessions: string[], token: string) => Promise<T>,
) {
  const { token } = await newAccount(s);
  const from = await lastEventId(s, token);
  const counter = createdCounter();
  const subs = await openSubscribers(s, token, opts.subscribers, from, { onEvent: counter.onEvent });
  const sessions = await Promise.all(
    [0, 1, 2, 3].map((i) => newSession(s, token, `${opts.sessionTitle} ${i}`)),
  );
  let stop = false;
  const publishing = runPublishers(s, token, 4, () => stop, { sessionIds: sessions });
  const during = await fault(sessions, token);
  stop = true;
  const pubs = await publishing;
  const c = await relayUntilDelivered(s, token, sessions, counter.created, REDELIVER_S);
  const last = await settledLastId(s, token);
  const v = await verifySubscribers(subs, from, last);
  for (const x of subs) x.close();
  return { during, pubs, c, v, failures: [...v.problems, ...pubs.badErrors.slice(0, 5)] };
}

/** Whether a hub's SQLite file holds an event mentioning `needle` (finds an account's hub). */
function sqliteHas(file: string, needle: string): boolean {
  const db = new DatabaseSync(file);
  try {
    const row = db.prepare("select count(*) as n from events where data like '%' || ? || '%'").get(needle) as
      | { n: number }
      | undefined;
    return (row?.n ?? 0) > 0;
  } catch {
    return false;
  } finally {
    db.close();
  }
}

function moduleVersion(file: string, module: string): number {
  const db = new DatabaseSync(file);
  try {
    const row = db.prepare('select version from schema_version where module = ?').get(module) as
      | { version: number }
      | undefined;
    if (!row) throw new Error(`no schema_version row for ${module} in ${file}`);
    return row.version;
  } finally {
    db.close();
  }
}

/** Sets a hub module's recorded schema version (99: newer than the code, so the hub refuses to run). */
function setModuleVersion(file: string, module: string, version: number): void {
  const db = new DatabaseSync(file);
  try {
    db.prepare('update schema_version set version = ? where module = ?').run(version, module);
  } finally {
    db.close();
  }
}

try {
  stack = await startStack({
    name: 'reliability',
    vars: {
      OUTBOX_REDELIVER_AFTER_SECONDS: String(REDELIVER_S),
      SSE_KEEPALIVE_MS: '5000',
      ...WEBHOOK_RELIABILITY_VARS,
    },
    log: (m) => log(m),
  });
  const s = stack;

  // ── load ────────────────────────────────────────────────────────────────────────────────────
  await phase(`load: 200 subscribers, 20 publishers, ${LOAD_SECONDS} s`, async () => {
    const { token } = await newAccount(s);
    const from = await lastEventId(s, token);
    const counter = createdCounter();
    const subs = await openSubscribers(s, token, 200, from, { onEvent: counter.onEvent });
    const end = Date.now() + LOAD_SECONDS * 1000;
    const pubs = await runPublishers(s, token, 20, () => Date.now() >= end);
    const last = await settledLastId(s, token);
    const v = await verifySubscribers(subs, from, last);
    for (const x of subs) x.close();
    const notDelivered = pubs.created.filter((id) => (counter.created.get(id) ?? 0) !== 1);
    const non201 = [...pubs.statuses.entries()].filter(([st]) => st !== 201);
    const failures = [...v.problems, ...pubs.badErrors.slice(0, 5)];
    if (notDelivered.length)
      failures.push(
        `${notDelivered.length} created handoffs not seen exactly once by the reference subscriber`,
      );
    if (non201.length || pubs.networkErrors)
      failures.push(`publishers got ${statusSummary(pubs.statuses)}, network errors ${pubs.networkErrors}`);
    return {
      ok: failures.length === 0 && v.lost === 0 && v.duplicates === 0,
      detail: `${pubs.created.length} handoffs (${(pubs.created.length / LOAD_SECONDS).toFixed(1)}/s), ${last - from} events (created + assessed) × 200 subscribers = ${((last - from) * 200).toLocaleString('en')} deliveries checked; statuses ${statusSummary(pubs.statuses)}; reconnects ${v.reconnects} (slow-consumer closes resumed by Last-Event-ID); lost ${v.lost}, duplicates ${v.duplicates}`,
      lost: v.lost,
      duplicates: v.duplicates,
      requests: pubs.requests,
      failures,
    };
  });

  // ── reconnect storms ────────────────────────────────────────────────────────────────────────
  await phase(
    'faults: reconnect storms (100 subscribers, 30% dropped every second for 20 s, 4 publishers)',
    async () => {
      const { token } = await newAccount(s);
      const from = await lastEventId(s, token);
      const subs = await openSubscribers(s, token, 100, from);
      const end = Date.now() + 20_000;
      let drops = 0;
      const storm = (async () => {
        while (Date.now() < end) {
          await sleep(1_000);
          for (const x of subs) {
            if (Math.random() < 0.3) {
              x.drop();
              drops++;
            }
          }
        }
      })();
      const pubs = await runPublishers(s, token, 4, () => Date.now() >= end);
      await storm;
      const last = await settledLastId(s, token);
      const v = await verifySubscribers(subs, from, last);
      for (const x of subs) x.close();
      const failures = [...v.problems, ...pubs.badErrors.slice(0, 5)];
      if ([...pubs.statuses.keys()].some((st) => st !== 201))
        failures.push(`publishers got ${statusSummary(pubs.statuses)}`);
      return {
        ok: failures.length === 0 && v.lost === 0 && v.duplicates === 0,
        detail: `${drops} drops, ${v.reconnects} reconnects with Last-Event-ID; ${pubs.created.length} handoffs, ${last - from} events; lost ${v.lost}, duplicates ${v.duplicates}`,
        lost: v.lost,
        duplicates: v.duplicates,
        requests: pubs.requests,
        failures,
      };
    },
  );

  // ── hub restarted during fan-out ────────────────────────────────────────────────────────────
  await phase('faults: hub (workerd) killed and restarted during fan-out', async () => {
    const { pubs, c, v, failures } = await publishThroughFault(
      s,
      { subscribers: 50, sessionTitle: 'restart' },
      async () => {
        await sleep(4_000);
        log('killing workerd (SIGKILL) mid-fan-out');
        await s.killWorker();
        await sleep(1_000);
        await s.startWorker();
        log('workerd restarted');
        await sleep(4_000);
      },
    );
    const lost201 = pubs.created.filter((id) => !c.committed.includes(id));
    if (c.halfWritten.length)
      failures.push(`half-written handoffs (no single outbox row): ${c.halfWritten.slice(0, 3)}`);
    if (c.notDelivered.length) failures.push(`${c.notDelivered.length} committed handoffs never delivered`);
    if (c.deliveredTwice.length) failures.push(`${c.deliveredTwice.length} handoffs delivered twice`);
    if (lost201.length) failures.push(`${lost201.length} handoffs answered 201 but not in Postgres`);
    if (pubs.statuses.has(500)) failures.push(`publishers got 500s: ${statusSummary(pubs.statuses)}`);
    const lost = v.lost + c.notDelivered.length + lost201.length;
    const duplicates = v.duplicates + c.deliveredTwice.length;
    return {
      ok: failures.length === 0 && lost === 0 && duplicates === 0,
      detail: `${c.committed.length} committed handoffs (${pubs.created.length} answered 201, ${pubs.networkErrors} requests cut by the kill; statuses ${statusSummary(pubs.statuses)}); ${v.reconnects} subscriber reconnects; every committed handoff delivered once; lost ${lost}, duplicates ${duplicates}`,
      lost,
      duplicates,
      requests: pubs.requests,
      failures,
    };
  });

  // ── hub restarted during a run ──────────────────────────────────────────────────────────────
  await phase('faults: hub (workerd) killed and restarted during a graph run', async () => {
    const { token } = await newAccount(s);
    const N = 8;
    const nodes = Array.from({ length: N }, (_, i) => ({
      id: `n${i}`,
      type: 'llm',
      prompt: `[[fake:delay=400]] step ${i} {{topic}}`,
      output_key: `out${i}`,
    }));
    const edges = nodes.map((n, i) => ({ from: n.id, to: i === N - 1 ? '__end__' : `n${i + 1}` }));
    const g = await call(s.url, 'POST', '/v1/graphs', {
      token,
      body: { name: `restart-${Date.now()}`, schema: { entry: 'n0', nodes, edges } },
    });
    if (g.status !== 201)
      return {
        ok: false,
        detail: `POST /v1/graphs answered ${g.status}: ${g.text.slice(0, 200)}`,
        lost: 0,
        duplicates: 0,
        requests: 1,
        failures: [],
      };
    const run = await call(s.url, 'POST', `/v1/graphs/${(g.json as { id: string }).id}/run`, {
      token,
      body: { input: { topic: 'vpn' } },
    });
    if (run.status !== 202)
      return {
        ok: false,
        detail: `run answered ${run.status}: ${run.text.slice(0, 200)}`,
        lost: 0,
        duplicates: 0,
        requests: 2,
        failures: [],
      };
    const runId = (run.json as { run_id: string }).run_id;
    const completed: string[] = [];
    const terminal: string[] = [];
    let sub: Subscriber | undefined;
    sub = new Subscriber({
      base: s.url,
      path: `/v1/runs/${runId}/stream`,
      token,
      lastEventId: 0,
      reconnect: true,
      onEvent: (f) => {
        if (f.event === 'node_completed' && f.data)
          completed.push((JSON.parse(f.data) as { node_id: string }).node_id);
        if (f.event === 'graph_completed' || f.event === 'error') {
          terminal.push(f.event === 'error' ? `error ${f.data}` : f.event);
          sub?.close();
        }
      },
    });
    await sub.open();
    const until = Date.now() + 15_000;
    while (completed.length < 2 && Date.now() < until) await sleep(20);
    const atKill = completed.length;
    log(`killing workerd with the run at node ${atKill}`);
    await s.killWorker();
    await s.startWorker();
    const deadline = Date.now() + 60_000;
    while (terminal.length === 0 && Date.now() < deadline) await sleep(100);
    sub.close();
    const status = await call(s.url, 'GET', `/v1/runs/${runId}/status`, { token });
    const expected = nodes.map((n) => n.id);
    const failures: string[] = [];
    if (terminal.length !== 1 || terminal[0] !== 'graph_completed')
      failures.push(`terminal events: ${JSON.stringify(terminal)}`);
    if (JSON.stringify(completed) !== JSON.stringify(expected))
      failures.push(
        `node_completed order ${completed.join(',')} (expected each once: ${expected.join(',')})`,
      );
    if (sub.gaps || sub.duplicates)
      failures.push(`run stream gaps ${sub.gaps}, duplicates ${sub.duplicates}`);
    const st = (status.json as { status?: string } | undefined)?.status;
    if (st !== 'completed')
      failures.push(`status after restart: ${status.status} ${status.text.slice(0, 200)}`);
    const dupNodes = completed.length - new Set(completed).size;
    return {
      ok: failures.length === 0,
      detail: `killed after ${atKill}/${N} nodes; run finished ${st ?? '?'}, ${completed.length} node_completed (repeated ${dupNodes}), terminal ${terminal.join(',') || 'none'}, stream reconnects ${Math.max(0, sub.connects - 1)}`,
      lost: sub.gaps,
      duplicates: sub.duplicates + dupNodes,
      requests: 3,
      failures,
    };
  });

  // ── Postgres stopped during creates ─────────────────────────────────────────────────────────
  await phase(
    `faults: Postgres stopped during creates (${s.embedded ? 'embedded PGlite server stopped' : 'bridge to the server stopped'}, then restarted)`,
    async () => {
      const { during, pubs, c, v, failures } = await publishThroughFault(
        s,
        { subscribers: 10, sessionTitle: 'pg' },
        async (sessions, token) => {
          await sleep(1_500);
          log('stopping Postgres');
          await s.stopDatabase();
          await sleep(4_000);
          // While it is down: a create is a 503 with the JSON error (also checked for every
          // publisher reply).
          const down = await call(s.url, 'POST', `/v1/sessions/${sessions[0]}/handoffs`, {
            token,
            body: { intent: 'escalate', reason: 'while down', severity: 'high' },
          });
          log(`starting Postgres (a create while down answered ${down.status})`);
          await s.startDatabase();
          // Recovery: creates succeed again within a bounded time.
          let recovered = false;
          for (let i = 0; i < 60 && !recovered; i++) {
            const r = await call(s.url, 'POST', `/v1/sessions/${sessions[1]}/handoffs`, {
              token,
              body: { intent: 'escalate', reason: 'after', severity: 'low' },
            });
            recovered = r.status === 201;
            if (!recovered) await sleep(500);
          }
          await sleep(2_000);
          return { down, recovered };
        },
      );
      const { down, recovered } = during;
      const unexpected = [...pubs.statuses.keys()].filter((st) => st !== 201 && st !== 503);
      if (down.status !== 503)
        failures.push(`a create while Postgres was down answered ${down.status}: ${down.text.slice(0, 200)}`);
      if (unexpected.length) failures.push(`statuses other than 201/503: ${statusSummary(pubs.statuses)}`);
      if (!recovered) failures.push('creates did not recover within 30 s of the restart');
      if (c.halfWritten.length) failures.push(`half-written handoffs: ${c.halfWritten.slice(0, 3)}`);
      if (c.notDelivered.length) failures.push(`${c.notDelivered.length} committed handoffs never delivered`);
      if (c.deliveredTwice.length) failures.push(`${c.deliveredTwice.length} delivered twice`);
      const lost = v.lost + c.notDelivered.length;
      const duplicates = v.duplicates + c.deliveredTwice.length;
      return {
        ok: failures.length === 0 && lost === 0 && duplicates === 0,
        detail: `statuses ${statusSummary(pubs.statuses)} (create while down: ${down.status}); ${c.committed.length} committed, none half-written; recovered: ${recovered}; lost ${lost}, duplicates ${duplicates}`,
        lost,
        duplicates,
        requests: pubs.requests + 1,
        failures,
      };
    },
  );

  // ── a Worker that dies between commit and publish: the account's next database use delivers ──
  await phase(
    'faults: committed but never published (a Worker that died after its commit): swept at the account’s next database use, exactly once; a lost ack is de-duplicated',
    async () => {
      const { accountId, token } = await newAccount(s);
      const sessionId = await newSession(s, token, 'outbox');
      const from = await lastEventId(s, token);
      const counter = createdCounter();
      const subs = await openSubscribers(s, token, 5, from, { onEvent: counter.onEvent });
      // A real card as the template (this one is published normally).
      const model = await call(s.url, 'POST', `/v1/sessions/${sessionId}/handoffs`, {
        token,
        body: { intent: 'escalate', reason: 'template', severity: 'normal' },
      });
      const template = model.json as Record<string, unknown>;
      configureNeon(s.wsProxy);
      const db = pool(s.databaseUrl, 1);
      const ids: string[] = [];
      let swept = false;
      try {
        // What the route commits (the handoff and its outbox row, in one transaction) when the
        // Worker dies before it publishes: nothing is published and nothing is marked.
        for (let i = 0; i < 5; i++) {
          const id = randomUUID();
          ids.push(id);
          const client = await db.connect();
          try {
            await client.query('begin');
            await client.query(
              `insert into handoffs (id, account_id, session_id, created_by, intent, reason, severity) select $1, $2, $3, created_by, 'escalate', $4, 'normal' from handoffs where id = $5`,
              [id, accountId, sessionId, `unpublished ${i}`, template.id],
            );
            const card = { ...template, id, reason: `unpublished ${i}` };
            await client.query(
              `insert into outbox (account_id, topic, event_type, payload) values ($1, 'escalations', 'escalation.created', $2::jsonb)`,
              [accountId, JSON.stringify({ card, version: template.version })],
            );
            await client.query('commit');
          } finally {
            client.release();
          }
        }
        // The cron alone does nothing for them: nothing is marked, and it must not scan Postgres.
        await s.runCron();
        await sleep(300);
        const beforeSweep = ids.filter((id) => (counter.created.get(id) ?? 0) > 0).length;
        // The account's next database use (its queue snapshot) sweeps rows older than the interval.
        await sleep((REDELIVER_S + 1) * 1000);
        for (let i = 0; i < 3; i++) {
          await lastEventId(s, token);
          await sleep(REDELIVER_S * 1000 + 300);
        }
        swept = beforeSweep === 0;
        // A publish that reached the hub but whose acknowledgement was lost: swept again, and the
        // hub drops the duplicate.
        await db.query(
          `update outbox set published_at = null where account_id = $1 and event_type = 'escalation.created'`,
          [accountId],
        );
        await sleep((REDELIVER_S + 1) * 1000);
        await lastEventId(s, token);
        await sleep(REDELIVER_S * 1000 + 300);
        await lastEventId(s, token);
      } finally {
        await db.end();
      }
      const last = await settledLastId(s, token);
      const v = await verifySubscribers(subs, from, last);
      for (const x of subs) x.close();
      const all = [String(template.id), ...ids];
      const counts = all.map((id) => counter.created.get(id) ?? 0);
      const lost = counts.filter((n) => n === 0).length + v.lost;
      const duplicates = counts.filter((n) => n > 1).length + v.duplicates;
      const failures = [...v.problems];
      if (!swept)
        failures.push('rows were delivered before the sweep: the cron scanned Postgres without a mark');
      return {
        ok: lost === 0 && duplicates === 0 && failures.length === 0,
        detail: `5 commits never published + 1 published; the cron (nothing marked) left them alone; the account's next queue snapshot swept them; then all 6 acks were cleared and the next sweep published again; created events per handoff ${counts.join(',')}; lost ${lost}, duplicates ${duplicates}`,
        lost,
        duplicates,
        requests: 2,
        failures,
      };
    },
  );

  // ── a hub that refuses every publish: the Worker retries, marks; the cron redelivers ─────────
  await phase(
    'faults: the account hub refuses every publish (its storage says a newer schema): creates answer 201, the Worker retries and marks the account, the cron redelivers exactly once after the hub is fixed',
    async () => {
      const { token } = await newAccount(s);
      const sessionId = await newSession(s, token, 'broken hub');
      const first = await call(s.url, 'POST', `/v1/sessions/${sessionId}/handoffs`, {
        token,
        body: { intent: 'escalate', reason: 'before the fault', severity: 'normal' },
      });
      const firstId = (first.json as { id: string }).id;
      const from = await settledLastId(s, token);
      // The hub's SQLite file, found by the card it logged; broken and later fixed with workerd down.
      await s.killWorker();
      const file = s.hubFiles().find((f) => sqliteHas(f, firstId));
      if (!file) throw new Error('could not find the account hub’s storage file');
      const version = moduleVersion(file, 'host');
      setModuleVersion(file, 'host', 99);
      await s.startWorker();
      const created: string[] = [];
      const statuses = new Map<number, number>();
      for (let i = 0; i < 4; i++) {
        const r = await call(s.url, 'POST', `/v1/sessions/${sessionId}/handoffs`, {
          token,
          body: { intent: 'escalate', reason: `while broken ${i}`, severity: 'high' },
        });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 201) created.push((r.json as { id: string }).id);
      }
      // The Worker's retries (within the request's waitUntil) end in the marker.
      await sleep(7_000);
      await s.killWorker();
      setModuleVersion(file, 'host', version);
      await s.startWorker();
      const counter = createdCounter();
      const subs = await openSubscribers(s, token, 5, from, { onEvent: counter.onEvent });
      await sleep(500);
      const beforeCron = created.filter((id) => (counter.created.get(id) ?? 0) > 0).length;
      await s.runCron();
      await sleep(500);
      await s.runCron();
      const last = await settledLastId(s, token);
      const v = await verifySubscribers(subs, from, last);
      for (const x of subs) x.close();
      const counts = created.map((id) => counter.created.get(id) ?? 0);
      const lost = counts.filter((n) => n === 0).length + v.lost;
      const duplicates = counts.filter((n) => n > 1).length + v.duplicates;
      const failures = [...v.problems];
      if (created.length !== 4)
        failures.push(`creates while the hub refused publishes answered ${statusSummary(statuses)}`);
      if (beforeCron !== 0)
        failures.push(
          `${beforeCron} delivered before the cron ran (expected none: nothing else redelivers them)`,
        );
      return {
        ok: lost === 0 && duplicates === 0 && failures.length === 0,
        detail: `4 creates while the hub refused every publish answered ${statusSummary(statuses)}; none delivered until the cron read the marker; created events per handoff ${counts.join(',')}; lost ${lost}, duplicates ${duplicates}`,
        lost,
        duplicates,
        requests: 6,
        failures,
      };
    },
  );

  // ── outbound webhooks: receiver down, then flaky, with hub restarts (test/reliability/webhooks.ts) ──
  await phase('faults: webhook receiver down, then flaky, with two workerd restarts', () =>
    webhookReliability(s, log),
  );

  // ── bad input ───────────────────────────────────────────────────────────────────────────────
  await phase(
    `bad input: fast-check fuzzing (${FUZZ_RUNS} runs per property) and hand-picked cases`,
    async () => {
      const { token } = await newAccount(s);
      const other = await newAccount(s);
      const sessionId = await newSession(s, token, 'fuzz');
      const h = await call(s.url, 'POST', `/v1/sessions/${sessionId}/handoffs`, {
        token,
        body: { intent: 'escalate', reason: 'fuzz', severity: 'low' },
      });
      const handoffId = (h.json as { id: string }).id;
      const g = await call(s.url, 'POST', '/v1/graphs', { token, body: FUZZ_GRAPH });
      const graphId = g.status === 201 ? (g.json as { id: string }).id : undefined;
      let runId: string | undefined;
      if (graphId) {
        const r = await call(s.url, 'POST', `/v1/graphs/${graphId}/run`, { token, body: { input: {} } });
        if (r.status === 202) runId = (r.json as { run_id: string }).run_id;
      }
      const f = await fuzz(
        s,
        token,
        { sessionId, handoffId, ...(graphId ? { graphId } : {}), ...(runId ? { runId } : {}) },
        other.token,
        FUZZ_RUNS,
      );
      return {
        ok: f.failures.length === 0,
        detail: `${f.requests} requests (${[...f.categories.entries()].map(([k, n]) => `${k} ${n}`).join(', ')}); statuses ${statusSummary(f.statuses)}`,
        lost: 0,
        duplicates: 0,
        requests: f.requests,
        failures: f.failures,
        inputs: f.requests,
        serverErrors: [...f.statuses.entries()]
          .filter(([st]) => st >= 500 && st !== 503)
          .reduce((a, [, n]) => a + n, 0),
        leaks: f.leaks,
      };
    },
  );

  // ── hardening: limits, internal text, JWT, every endpoint (test/reliability/hardening.ts) ──
  await phase(
    `hardening: fast-check properties (templates in process and on the stack, JWT times and names, every endpoint of /openapi.json × ${FUZZ_RUNS} random inputs)`,
    async () => {
      const h = await hardening(s, FUZZ_RUNS);
      return { ...h, lost: 0, duplicates: 0, requests: h.inputs };
    },
  );
} catch (err) {
  results.push({
    phase: 'setup',
    ok: false,
    detail: String((err as Error).stack ?? err),
    lost: 0,
    duplicates: 0,
    requests: 0,
    failures: [],
  });
} finally {
  await stack?.stop();
}

// ── closing table ─────────────────────────────────────────────────────────────────────────────
const lost = results.reduce((a, r) => a + r.lost, 0);
const duplicates = results.reduce((a, r) => a + r.duplicates, 0);
const fuzzed = results.filter((r) => r.inputs !== undefined);
const inputs = fuzzed.reduce((a, r) => a + (r.inputs ?? 0), 0);
const serverErrors = fuzzed.reduce((a, r) => a + (r.serverErrors ?? 0), 0);
const leaks = fuzzed.reduce((a, r) => a + (r.leaks ?? 0), 0);
const okAll =
  results.length > 0 &&
  results.every((r) => r.ok) &&
  lost === 0 &&
  duplicates === 0 &&
  serverErrors === 0 &&
  leaks === 0;
const table = [
  '| phase | result | lost | duplicates | what happened |',
  '| --- | --- | --- | --- | --- |',
  ...results.map(
    (r) =>
      `| ${r.phase} | ${r.ok ? 'passed' : '**FAILED**'} | ${r.lost} | ${r.duplicates} | ${r.detail.replace(/\n/g, ' ').replace(/\|/g, '\\|')} |`,
  ),
  `| **total** | ${okAll ? '**passed**' : '**FAILED**'} | **${lost}** (must be 0) | **${duplicates}** (must be 0) | ${((Date.now() - started) / 1000).toFixed(0)} s, ${stack?.embedded === false ? 'PostgreSQL server' : 'embedded PGlite'} |`,
  `| **inputs tried** | | | | **${inputs.toLocaleString('en')}** (${fuzzed.map((r) => `${r.phase.split(':')[0]} ${(r.inputs ?? 0).toLocaleString('en')}`).join(', ')}) |`,
  `| **5xx** | ${serverErrors === 0 ? 'passed' : '**FAILED**'} | | | **${serverErrors}** (must be 0) |`,
  `| **internal text leaked** | ${leaks === 0 ? 'passed' : '**FAILED**'} | | | **${leaks}** (must be 0) |`,
].join('\n');
console.log(`\nReliability (${new Date().toISOString()})\n\n${table}\n`);
for (const r of results.filter((x) => x.failures.length))
  console.log(`${r.phase}:\n  ${r.failures.join('\n  ')}`);
mkdirSync(resolve(root, '.data/reliability'), { recursive: true });
writeFileSync(resolve(root, '.data/reliability/summary.md'), `${table}\n`);
process.exit(okAll ? 0 : 1);
