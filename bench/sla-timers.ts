// SLA timers: a thousand cards whose pick-up warning falls due at the same instant, on one
// account's hub. Measures how long the hub takes to work through the batch (one alarm, the job
// table drained in batches, one Postgres transaction per batch, the events published through
// the outbox path) and, per event, the delay from its due time to the frame parsed by a client
// of the escalation stream.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { cardsFrom } from '../worker/escalations/cards';
import { configureNeon, pool } from './lib/db';
import { call, percentile, sleep } from './lib/http';
import { Subscriber } from './lib/sse-client';
import type { Stack } from './lib/stack';

export interface SlaTimersResult {
  timers: number;
  /** From the shared due time to the last warning parsed by the client. */
  batchMs: number;
  /** Due time → frame parsed, per event, sorted. */
  delays: number[];
  received: number;
}

const ms = (v: number) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(2) : v.toFixed(0)) : 'n/a');

/**
 * The cards are written straight to Postgres with the clocks the default policy gives a
 * `normal` card created 45 minutes before the due time (its warning at 0.75 of the hour), and
 * reach the hub as committed outbox rows that the cron relay publishes (500 a tick, as in
 * production): the hub arms each card's timers from the card the event carries, exactly as it
 * does for a card created through the API. The event type is `escalation.assessed`, so that no
 * assessment job competes with the timers.
 */
export async function benchSlaTimers(
  stack: Stack,
  opts: { timers?: number; leadMs?: number; log?: (m: string) => void } = {},
): Promise<{ result: SlaTimersResult; row: string; section: string }> {
  const n = opts.timers ?? 1_000;
  const say = opts.log ?? (() => {});
  const accountId = randomUUID();
  const userId = randomUUID();
  const token = await stack.token({ acct: accountId, sub: userId, role: 'admin', name: 'Bench Admin' });
  const session = await call(stack.url, 'POST', '/v1/sessions', {
    token,
    body: { title: 'timers', problem_summary: 'SLA timer benchmark' },
  });
  if (session.status !== 201) throw new Error(`session create answered ${session.status}`);
  const sessionId = (session.json as { id: string }).id;

  const arrivals = new Map<string, { at: number; due: number }>();
  let armed = 0;
  const sub = new Subscriber({
    base: stack.url,
    path: '/v1/escalations/stream',
    token,
    onEvent: (frame, at) => {
      if (frame.event === 'escalation.assessed') armed++;
      if (frame.event !== 'escalation.sla_warning' || !frame.data) return;
      const data = JSON.parse(frame.data) as { card: { id: string; sla: { pickup_warn_at: string } } };
      if (!arrivals.has(data.card.id)) {
        arrivals.set(data.card.id, {
          at: performance.timeOrigin + at,
          due: Date.parse(data.card.sla.pickup_warn_at),
        });
      }
    },
  });
  await sub.open();

  configureNeon(stack.wsProxy);
  const db = pool(stack.databaseUrl, 1);
  // A whole second, far enough ahead for the relay to deliver every card first.
  const due = Math.ceil((Date.now() + (opts.leadMs ?? 20_000)) / 1000) * 1000;
  const at = (offsetSeconds: number) => new Date(due + offsetSeconds * 1000).toISOString();
  try {
    await db.query(
      `insert into handoffs (account_id, session_id, created_by, intent, reason, severity, status, ai_status,
                             policy_version, created_at, pickup_warn_at, pickup_due_at, resolve_warn_at, resolve_due_at)
       select $1, $2, $3, 'escalate', 'bench timer ' || g, 'normal', 'open', 'done', 0, $4, $5, $6, $7, $8
       from generate_series(1, $9::int) g`,
      [accountId, sessionId, userId, at(-2_700), at(0), at(900), at(62_100), at(83_700), n],
    );
    const outbox = new PgDialect().sqlToQuery(sql`
      insert into outbox (account_id, topic, event_type, payload, created_at)
      select ${accountId}::uuid, 'escalations', 'escalation.assessed',
             jsonb_build_object('card', c.card, 'version', 1), now() - interval '1 minute'
      from (${cardsFrom(sql.raw('handoffs'), sql`h.account_id = ${accountId}::uuid`)}) c`);
    await db.query(outbox.sql, outbox.params);
  } finally {
    await db.end();
  }
  for (let tick = 0; armed < n && tick < Math.ceil(n / 500) + 10; tick++) {
    await stack.runCron();
    const until = Date.now() + 2_000;
    while (armed < n && Date.now() < until) await sleep(20);
  }
  if (armed < n) throw new Error(`the relay delivered only ${armed} of ${n} cards`);
  if (Date.now() >= due) throw new Error('the cards arrived after their timers were due: raise leadMs');
  say(`sla timers: ${n} cards armed, due in ${((due - Date.now()) / 1000).toFixed(1)} s`);
  const deadline = due + 120_000;
  while (arrivals.size < n && Date.now() < deadline) await sleep(20);
  sub.close();

  const delays = [...arrivals.values()].map((a) => a.at - a.due).sort((a, b) => a - b);
  const last = Math.max(...[...arrivals.values()].map((a) => a.at));
  const result: SlaTimersResult = { timers: n, batchMs: last - due, delays, received: arrivals.size };
  const p50 = percentile(delays, 50);
  const p99 = percentile(delays, 99);
  const met = result.received === n && percentile(delays, 100) <= 2_000;
  const row = `| 6. SLA timers: ${n.toLocaleString('en')} due at once → \`escalation.sla_warning\` parsed by a stream client | batch done ${ms(result.batchMs)} ms after due; delay p50 ${ms(p50)} ms, p99 ${ms(p99)} ms (${result.received}/${n}) | — | — | every event within 2 s of due | ${met ? '**met**' : '**missed**'} |`;
  const section = `## 6. SLA timers

${n.toLocaleString('en')} open cards of one account, each with its pick-up warning due at the same instant
(${new Date(due).toISOString()}), armed in the hub's job table from the cards the outbox relay delivered. One alarm
fires at the due time; the host takes up to 1,000 due jobs per alarm, hands the timer jobs to the escalations module in
batches of 100 (8 at a time), and each batch is one Postgres transaction (the conditional clock change, the timeline
rows and the outbox rows) followed by one publish into the log and out to the subscribers. Measured by one client of
the escalation stream (SSE through the Worker), from each card's due time to the frame parsed.

| timers | received | batch done after due | delay p50 | delay p99 | delay max |
| --- | --- | --- | --- | --- | --- |
| ${n} | ${result.received} | ${ms(result.batchMs)} ms | ${ms(p50)} ms | ${ms(p99)} ms | ${ms(percentile(delays, 100))} ms |
`;
  return { result, row, section };
}
