import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { EscalationCard, EscalationEvent } from '../worker/contract/events';
import { type ClockTimer, timerJobId } from '../worker/escalations/clock-timers';
import { hubOf, waitFor } from './escalation-helpers';
import { call, json, type TestUser } from './helpers';

// Driving the hub's durable timers in tests: a timer's job row is made due and the alarm is run,
// never a sleep.

export type JobRow = {
  id: string;
  kind: string;
  run_at: number;
  attempts: number;
  last_error: string | null;
};

/** The hub's timer jobs of one card (or all of them). */
export function timerJobs(user: TestUser, handoffId?: string): Promise<JobRow[]> {
  return runInDurableObject(hubOf(user), (_hub, state) =>
    state.storage.sql
      .exec<JobRow>(
        `select id, kind, run_at, attempts, last_error from jobs where kind = 'escalation-timer' and id like ? order by run_at`,
        handoffId ? `timer:${handoffId}:%` : 'timer:%',
      )
      .toArray(),
  );
}

/** Waits until the hub has armed the card's timers from its newest event. */
export function armed(user: TestUser, handoffId: string, expected: readonly ClockTimer[]): Promise<JobRow[]> {
  const want = expected.map((t) => timerJobId(handoffId, t)).sort();
  return waitFor(
    async () => {
      const rows = await timerJobs(user, handoffId);
      const ids = rows.map((r) => r.id).sort();
      return JSON.stringify(ids) === JSON.stringify(want) ? rows : undefined;
    },
    `timers ${expected.join(', ')} of ${handoffId}`,
  );
}

/** Makes these timers due now and runs the hub's alarm once. */
export async function fire(user: TestUser, handoffId: string, timers: readonly ClockTimer[]): Promise<void> {
  await runInDurableObject(hubOf(user), (_hub, state) => {
    for (const t of timers)
      state.storage.sql.exec('update jobs set run_at = 0 where id = ?', timerJobId(handoffId, t));
  });
  await runAlarm(user);
}

/** Runs the hub's alarm now (setting one first if none is set). */
export async function runAlarm(user: TestUser): Promise<void> {
  const hub = hubOf(user);
  const ran = await runDurableObjectAlarm(hub);
  if (!ran) {
    await runInDurableObject(hub, (_h, state) => state.storage.setAlarm(Date.now() + 60_000));
    await runDurableObjectAlarm(hub);
  }
}

/** Every escalation event of the account's log, oldest first (from the hub's SQLite). */
export function loggedEvents(user: TestUser): Promise<(EscalationEvent & { id: number })[]> {
  return runInDurableObject(hubOf(user), (_hub, state) =>
    state.storage.sql
      .exec<{ id: number; type: string; data: string }>(
        'select id, type, data from events where topic = ? order by id',
        'escalations',
      )
      .toArray()
      .map((r) => ({ id: r.id, type: r.type, data: JSON.parse(r.data) }) as EscalationEvent & { id: number }),
  );
}

/** The events of one card, of the given types, oldest first. */
export async function eventsOf(user: TestUser, handoffId: string, ...types: EscalationEvent['type'][]) {
  return (await loggedEvents(user)).filter(
    (e) => e.data.card.id === handoffId && (types.length === 0 || types.includes(e.type)),
  );
}

export async function card(user: TestUser, id: string): Promise<EscalationCard> {
  const ctx = await json<{ handoff: EscalationCard }>(await call(`/v1/handoffs/${id}/context`, user));
  return ctx.handoff;
}

export async function timeline(user: TestUser, id: string) {
  return json<{
    items: {
      at: string;
      type: string;
      version: number;
      actor: { user_id: string; name: string } | null;
      details: Record<string, unknown>;
    }[];
  }>(await call(`/v1/handoffs/${id}/timeline`, user));
}

/**
 * Points the hub's modules at another database for a while (the hub's own env is fixed at
 * construction): how a test makes Postgres unreachable from inside a hub job.
 */
export function hubDatabase(user: TestUser, url: string): Promise<void> {
  return runInDurableObject(hubOf(user), (instance) => {
    const host = (instance as unknown as { host: { env: Env } }).host;
    host.env = { ...env, DATABASE_URL: url } as Env;
  });
}

export const DEAD_DATABASE = 'postgres://postgres:postgres@127.0.0.1:1/postgres';
