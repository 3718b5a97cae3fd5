import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../worker/app';
import type { EscalationCard } from '../worker/contract/events';
import { HANDOFF_STATUSES, SEVERITIES, TIMELINE_TYPES } from '../worker/contract/statuses';
import type { SeedResult } from '../worker/dev/demo-seed';
import { DEMO_TEAM } from '../worker/dev/demo-story';
import { openStream, waitFor } from './escalation-helpers';
import { call, createSession, expectError, json, makeUser, type TestUser } from './helpers';
import { httpBase } from './runs-helpers';

// The demo seed (POST /dev/seed, dev mode only) on a fresh account: a week of history written by
// the stores with their clock, published through the outbox, with graphs and live runs. What the
// API then says (cards, timelines, metrics, the stream's history, runs) must agree.

const TZ = 'Europe/Paris';

async function seed(body: Record<string, unknown>, devMode = 'true') {
  const ctx = createExecutionContext();
  const res = await app.request(
    '/dev/seed',
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    { ...env, DEV_MODE: devMode },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const seedBody = (accountId: string) => ({
  account_id: accountId,
  tz: TZ,
  status_url: `${httpBase}/demo-status`,
});

interface Timeline {
  items: { at: string; type: string; version: number; actor: { name: string } | null }[];
}

describe('the demo seed', () => {
  const accountId = crypto.randomUUID();
  let result: SeedResult;
  let seededAt: number;
  let alice: TestUser;
  let ada: TestUser;
  let cards: EscalationCard[];

  beforeAll(async () => {
    seededAt = Date.now();
    // Two at once: one seeds, the other finds it claimed.
    const answers = await Promise.all([seed(seedBody(accountId)), seed(seedBody(accountId))]);
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 201]);
    const [first, second] = await Promise.all(answers.map((r) => r.json() as Promise<SeedResult>));
    result = (first?.seeded ? first : second) as SeedResult;
    const other = (first?.seeded ? second : first) as SeedResult;
    expect(other).toMatchObject({ seeded: false, reason: 'already_seeded' });
    const person = (p: keyof typeof DEMO_TEAM) =>
      makeUser({ acct: accountId, sub: DEMO_TEAM[p].id, role: DEMO_TEAM[p].role, name: DEMO_TEAM[p].name });
    alice = await person('alice');
    ada = await person('ada');
    cards = (await json<{ items: EscalationCard[] }>(await call('/v1/escalations?limit=200', ada))).items;
  }, 180_000);

  it('makes a week: 40 sessions, 60 hand-offs in every status and severity, 3 graphs, 10 runs', () => {
    expect(result.seeded).toBe(true);
    if (!result.seeded) return;
    expect(result.summary).toMatchObject({
      sessions: 40,
      handoffs: 60,
      by_status: { open: 10, picked_up: 8, resolved: 36, cancelled: 6 },
    });
    expect(result.summary.graphs.map((g) => g.name)).toEqual([
      'Triage a new ticket',
      'Check the status page',
      'Answer a how-to question',
    ]);
    expect(result.summary.runs).toHaveLength(10);
    expect(result.summary.timers_fired).toBeGreaterThan(20);
    expect(cards).toHaveLength(60);
    expect(new Set(cards.map((c) => c.status))).toEqual(new Set(HANDOFF_STATUSES));
    expect(new Set(cards.map((c) => c.severity))).toEqual(new Set(SEVERITIES));
    const days = new Set(
      cards.map((c) => new Date(c.created_at).toLocaleDateString('en-CA', { timeZone: TZ })),
    );
    expect(days.size).toBeGreaterThanOrEqual(6);
  });

  it('is idempotent: seeding again writes nothing, and an account with data is left alone', async () => {
    const again = await seed(seedBody(accountId));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ seeded: false, reason: 'already_seeded' });
    const after = await json<{ items: EscalationCard[] }>(await call('/v1/escalations?limit=200', ada));
    expect(after.items).toHaveLength(60);
    const sessions = await json<{ items: unknown[] }>(await call('/v1/sessions?limit=200', ada));
    expect(sessions.items).toHaveLength(40);

    const busy = await makeUser({ role: 'admin' });
    await createSession(busy);
    const refused = await seed({ ...seedBody(busy.acct), if_empty: true });
    expect(await refused.json()).toEqual({ seeded: false, reason: 'not_empty' });
    expect((await json<{ items: unknown[] }>(await call('/v1/sessions', busy))).items).toHaveLength(1);
  });

  it('fired every clock that fell due before now, and left the later ones to the hub', () => {
    for (const card of cards) {
      const running = (state: string) => state === 'ok' || state === 'warning';
      if (running(card.sla.pickup))
        expect(Date.parse(card.sla.pickup_due_at)).toBeGreaterThan(seededAt - 5_000);
      if (card.sla.pickup === 'ok')
        expect(Date.parse(card.sla.pickup_warn_at)).toBeGreaterThan(seededAt - 5_000);
      if (running(card.sla.resolve))
        expect(Date.parse(card.sla.resolve_due_at)).toBeGreaterThan(seededAt - 5_000);
      if (card.next_level_at) expect(Date.parse(card.next_level_at)).toBeGreaterThan(seededAt - 5_000);
    }
    const breached = cards.filter((c) => c.sla.pickup === 'breached' || c.sla.resolve === 'breached');
    expect(breached.length).toBeGreaterThanOrEqual(8);
    expect(cards.some((c) => c.level > 0)).toBe(true);
    // A transfer waiting for Alice, and an urgent card escalated to the admins.
    expect(
      cards.some((c) => c.status === 'open' && Array.isArray(c.notify) && c.notify.includes(alice.sub)),
    ).toBe(true);
    expect(cards.some((c) => c.status === 'open' && c.notify === 'admins')).toBe(true);
  });

  it('gives every card a timeline that agrees with it, change by change, in time order', async () => {
    const seen = new Set<string>();
    for (const card of cards) {
      const { items } = await json<Timeline>(await call(`/v1/handoffs/${card.id}/timeline`, ada));
      expect(items.map((i) => i.version)).toEqual(Array.from({ length: card.version }, (_, i) => i + 1));
      expect(items[0]).toMatchObject({ type: 'created', at: card.created_at });
      const ats = items.map((i) => Date.parse(i.at));
      expect(ats).toEqual([...ats].sort((a, b) => a - b));
      expect(Math.max(...ats)).toBeLessThan(seededAt + 60_000);
      expect(Date.parse(items.at(-1)?.at ?? '')).toBe(Date.parse(card.updated_at));
      if (card.picked_up_at)
        expect(items.some((i) => i.type === 'picked_up' && i.at === card.picked_up_at)).toBe(true);
      if (card.closed_at) expect(items.at(-1)?.at).toBe(card.closed_at);
      for (const i of items) seen.add(i.type);
    }
    // Every kind of change, so that a kind added to the contract is added to the demo too.
    for (const type of TIMELINE_TYPES) expect(seen).toContain(type);
  });

  it('assesses each card with the labelled heuristic, from its steps, when it was escalated', async () => {
    const card = cards.find((c) => c.status === 'resolved') as EscalationCard;
    const ctx = await json<{ tried: { outcome: string }[]; ai_assessment: EscalationCard['ai_assessment'] }>(
      await call(`/v1/handoffs/${card.id}/context`, alice),
    );
    expect(ctx.ai_assessment).toMatchObject({ source: 'heuristic', model: null });
    // Made when it was escalated: from the steps tried by then (the follow-up came later).
    const steps = Number(/(\d+) steps? tried/.exec(ctx.ai_assessment?.summary ?? '')?.[1]);
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThan(ctx.tried.length);
    expect(ctx.ai_assessment?.ruled_out?.length).toBeGreaterThan(0);
    const assessedAt = Date.parse(ctx.ai_assessment?.generated_at ?? '');
    expect(assessedAt - Date.parse(card.created_at)).toBeGreaterThan(0);
    expect(assessedAt - Date.parse(card.created_at)).toBeLessThan(10_000);
    expect(cards.every((c) => c.ai_status === 'done')).toBe(true);
  });

  it('puts the same history on the stream: every change once, oldest first, last versions matching', async () => {
    const expected = cards.reduce((n, c) => n + c.version, 0);
    const reader = await openStream(ada, 0);
    const frames = await reader.events(expected, 10_000);
    await reader.close();
    const history = frames.filter((f) => f.event?.startsWith('escalation.'));
    expect(history.length).toBe(expected);
    const last = new Map<string, number>();
    for (const f of history) {
      const { card, version } = f.data as { card: EscalationCard; version: number };
      expect(version).toBe((last.get(card.id) ?? 0) + 1);
      last.set(card.id, version);
    }
    for (const card of cards) expect(last.get(card.id)).toBe(card.version);
  });

  it('agrees with the metrics: totals, pick-up times, breaches and re-escalations, in local days', async () => {
    const m = await json<{
      totals: { total: number; by_status: Record<string, number>; by_severity: Record<string, number> };
      time_to_pickup_seconds: { count: number; median: number | null; p90: number | null };
      time_to_resolve_seconds: { count: number; median: number | null };
      per_day: { date: string; created: number }[];
      sla: { overall: { pickup_breaches: number; reescalations: number } };
    }>(
      await call(
        `/v1/escalations/metrics?tz=${encodeURIComponent(TZ)}&from=${new Date(seededAt - 8 * 86_400_000).toISOString()}`,
        ada,
      ),
    );
    expect(m.totals.total).toBe(60);
    expect(m.totals.by_status).toEqual({ open: 10, picked_up: 8, resolved: 36, cancelled: 6 });
    expect(m.totals.by_severity).toEqual({ low: 12, normal: 24, high: 16, urgent: 8 });
    // Picked up at least once: every resolved or picked-up card, the released ones, a cancelled one.
    expect(m.time_to_pickup_seconds.count).toBeGreaterThanOrEqual(44);
    expect(m.time_to_pickup_seconds.p90).toBeGreaterThan(m.time_to_pickup_seconds.median ?? 0);
    expect(m.time_to_resolve_seconds.count).toBe(36);
    expect(m.per_day.reduce((n, d) => n + d.created, 0)).toBe(60);
    expect(m.sla.overall.pickup_breaches).toBeGreaterThan(0);
    const timelines = await Promise.all(
      cards.map(async (c) => (await json<Timeline>(await call(`/v1/handoffs/${c.id}/timeline`, ada))).items),
    );
    const reescalations = timelines.flat().filter((i) => i.type === 'reescalated').length;
    expect(m.sla.overall.reescalations).toBe(reescalations);
  });

  it('starts ten runs: one paused for Alice, and completed, cancelled, failed, running, timed out and rerun ones', async () => {
    type Run = { id: string; status: string; started_by: string; parent_run_id: string | null };
    const runs = async () => (await json<{ items: Run[] }>(await call('/v1/runs?limit=50', ada))).items;
    expect(await runs()).toHaveLength(10);
    const settled = await waitFor(
      async () => {
        const list = await runs();
        const statuses = new Set(list.map((r) => r.status));
        return ['paused', 'completed', 'cancelled', 'failed', 'timed_out'].every((s) => statuses.has(s))
          ? list
          : undefined;
      },
      'the runs to reach every state',
      30_000,
    );
    const paused = settled.filter((r) => r.status === 'paused');
    expect(paused.map((r) => r.started_by)).toEqual([alice.sub]);
    expect(settled.some((r) => r.parent_run_id !== null)).toBe(true);
    // The billing run retries a 503 for a while: running when the seed answered.
    expect(result.seeded && result.summary.runs.some((r) => r.note.startsWith('retrying'))).toBe(true);
  }, 60_000);

  it('is a dev-mode route: 404 otherwise, and its input is validated', async () => {
    await expectError(await seed(seedBody(crypto.randomUUID()), 'false'), 404, 'not_found');
    for (const [body, field] of [
      [{ account_id: 'nope' }, 'account_id'],
      [{ tz: 'Mars/Olympus' }, 'tz'],
      [{ status_url: 'ftp://x' }, 'status_url'],
      [{ extra: 1 }, 'body'],
    ] as const) {
      const error = await expectError(await seed(body), 400, 'validation_failed');
      expect(JSON.stringify(error.details)).toContain(field === 'body' ? 'extra' : field);
    }
  });
});
