import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { app } from '../worker/app';
import type { EscalationCard } from '../worker/contract/events';
import { openDb } from '../worker/db/client';
import { handoffs, outbox } from '../worker/db/schema';
import { assessHandoff } from '../worker/escalations/assessment';
import { outboxMarker } from '../worker/escalations/outbox';
import { redeliverMarked, scheduled } from '../worker/scheduled';
import { escalate, hubOf, openStream, unreachableHub, waitFor } from './escalation-helpers';
import {
  call,
  colleague,
  createSession,
  expectError,
  json,
  makeUser,
  type TestUser,
  withDb,
} from './helpers';

type Context = {
  handoff: EscalationCard;
  problem_summary: string;
  tried: { action: string; outcome: string }[];
  ai_status: string;
  ai_assessment: EscalationCard['ai_assessment'];
  start_here: { summary: string; session_id: string; session_url: string };
};

async function contextOf(user: TestUser, id: string) {
  return json<Context>(await call(`/v1/handoffs/${id}/context`, user));
}

async function createdEvents(user: TestUser) {
  const reader = await openStream(user, 0);
  const frames = await reader.events(50, 500);
  await reader.close();
  return frames.filter((f) => f.event === 'escalation.created');
}

describe('handoffs', () => {
  it('creates a card with the assessment pending, without waiting for it', async () => {
    const alice = await makeUser({ name: 'Alice' });
    const session = await createSession(alice, { customer: 'Acme' });
    const res = await call(`/v1/sessions/${session.id}/handoffs`, alice, {
      body: { intent: 'escalate', reason: 'VPN still drops', severity: 'urgent' },
    });
    expect(res.status).toBe(201);
    const card = await json<EscalationCard>(res);
    expect(card).toMatchObject({
      session_id: session.id,
      status: 'open',
      severity: 'urgent',
      ai_status: 'pending',
      ai_assessment: null,
      version: 1,
      created_by: { id: alice.sub, name: 'Alice' },
      session: { title: 'VPN drops', customer: 'Acme' },
    });
    const snapshot = await json<{ items: EscalationCard[]; last_event_id: number }>(
      await call('/v1/escalations', alice),
    );
    expect(snapshot.last_event_id).toBeGreaterThanOrEqual(1);
    // The card the create assembles in SQL is exactly the card every read builds (the assessment
    // may have landed meanwhile: its fields are set back to the created state).
    const read = snapshot.items.find((c) => c.id === card.id);
    expect(
      read && { ...read, ai_status: 'pending', ai_assessment: null, version: 1, updated_at: card.updated_at },
    ).toEqual(card);
  });

  it('honours Idempotency-Key: the same key returns the same handoff and publishes once', async () => {
    const alice = await makeUser();
    const session = await createSession(alice);
    const body = { intent: 'escalate', reason: 'retry me', severity: 'normal' };
    const headers = { 'idempotency-key': `key-${crypto.randomUUID()}` };
    const [a, b] = await Promise.all([
      call(`/v1/sessions/${session.id}/handoffs`, alice, { body, headers }),
      call(`/v1/sessions/${session.id}/handoffs`, alice, { body, headers }),
    ]);
    const c = await call(`/v1/sessions/${session.id}/handoffs`, alice, { body, headers });
    const ids = await Promise.all([a, b, c].map(async (r) => (await json<EscalationCard>(r)).id));
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    expect(new Set(ids).size).toBe(1);
    expect(c.headers.get('idempotent-replayed')).toBe('true');
    expect((await createdEvents(alice)).length).toBe(1);
    await expectError(
      await call(`/v1/sessions/${session.id}/handoffs`, alice, {
        body: { ...body, reason: 'other' },
        headers,
      }),
      422,
      'idempotency_key_reused',
    );
  });

  // Regression: "two idempotency implementations". A handoff's key was looked up without its
  // age, so it answered past 24 h until the hourly prune happened to run. The shared helper
  // judges the age at lookup now, as run starts always did.
  it('does not replay a handoff key older than 24 h, even before any prune ran', async () => {
    const alice = await makeUser();
    const session = await createSession(alice);
    const body = { intent: 'escalate', reason: 'a day later', severity: 'low' };
    const headers = { 'idempotency-key': `old-${crypto.randomUUID()}` };
    const path = `/v1/sessions/${session.id}/handoffs`;
    const first = await json<EscalationCard>(await call(path, alice, { body, headers }));
    // Still within 24 h: the same handoff.
    const replay = await call(path, alice, { body, headers });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await json<EscalationCard>(replay)).id).toBe(first.id);
    await withDb(async (db) => {
      // Age the handoff (and so its key) past 24 hours; no prune runs.
      await db
        .update(handoffs)
        .set({ createdAt: sql`now() - interval '24 hours 1 minute'` })
        .where(eq(handoffs.id, first.id));
      const later = await call(path, alice, { body, headers });
      expect(later.status).toBe(201);
      expect(later.headers.get('idempotent-replayed')).toBeNull();
      const second = await json<EscalationCard>(later);
      expect(second.id).not.toBe(first.id);
      // The old handoff stays; its key went to the new one, which replays from now on.
      const keys = await db
        .select({ id: handoffs.id, key: handoffs.idempotencyKey })
        .from(handoffs)
        .where(eq(handoffs.sessionId, session.id));
      expect(new Map(keys.map((k) => [k.id, k.key]))).toEqual(
        new Map([
          [first.id, null],
          [second.id, headers['idempotency-key']],
        ]),
      );
      const again = await call(path, alice, { body, headers });
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect((await json<EscalationCard>(again)).id).toBe(second.id);
    });
  });

  it('lets exactly one of two concurrent pick-ups win; the other learns who has it', async () => {
    const alice = await makeUser();
    const bob = await colleague(alice, 'engineer', 'Bob');
    const carol = await colleague(alice, 'engineer', 'Carol');
    const card = await escalate(alice);
    const [r1, r2] = await Promise.all([
      call(`/v1/handoffs/${card.id}/pickup`, bob, { method: 'POST' }),
      call(`/v1/handoffs/${card.id}/pickup`, carol, { method: 'POST' }),
    ]);
    const statuses = [r1.status, r2.status].sort();
    expect(statuses).toEqual([200, 409]);
    const [winnerRes, loserRes] = r1.status === 200 ? [r1, r2] : [r2, r1];
    const winner = await json<EscalationCard>(winnerRes);
    const err = await expectError(loserRes, 409, 'already_picked_up');
    expect(err.message).toContain(winner.picked_up_by?.name);
    expect(err.details).toMatchObject({ picked_up_by: winner.picked_up_by, status: 'picked_up' });
    expect(winner.status).toBe('picked_up');
    expect(winner.version).toBeGreaterThan(card.version);
  });

  it('bumps the version on each change and publishes the whole card', async () => {
    const alice = await makeUser();
    const bob = await colleague(alice, 'engineer', 'Bob');
    const card = await escalate(alice);
    const reader = await openStream(alice, 0);
    const picked = await json<EscalationCard>(
      await call(`/v1/handoffs/${card.id}/pickup`, bob, { method: 'POST' }),
    );
    const resolved = await json<EscalationCard>(
      await call(`/v1/handoffs/${card.id}/resolve`, bob, { method: 'POST' }),
    );
    expect(resolved).toMatchObject({ status: 'resolved', closed_by: { id: bob.sub, name: 'Bob' } });
    expect(resolved.version).toBeGreaterThan(picked.version);
    const frames = await reader.events(10, 1_000);
    await reader.close();
    const byType = new Map(frames.map((f) => [f.event, f.data as { card: EscalationCard; version: number }]));
    expect(byType.get('escalation.picked_up')?.card).toMatchObject({
      id: card.id,
      status: 'picked_up',
      version: picked.version,
    });
    expect(byType.get('escalation.resolved')).toMatchObject({
      version: resolved.version,
      card: { status: 'resolved' },
    });
    await expectError(
      await call(`/v1/handoffs/${card.id}/cancel`, bob, { method: 'POST' }),
      409,
      'invalid_state',
    );
    await expectError(
      await call(`/v1/handoffs/${card.id}/pickup`, bob, { method: 'POST' }),
      409,
      'invalid_state',
    );
  });

  it('cancels an open handoff', async () => {
    const alice = await makeUser();
    const card = await escalate(alice);
    const cancelled = await json<EscalationCard>(
      await call(`/v1/handoffs/${card.id}/cancel`, alice, { method: 'POST' }),
    );
    expect(cancelled.status).toBe('cancelled');
  });

  it('serves the pick-up context: problem, what was tried, assessment, where to start', async () => {
    const alice = await makeUser();
    const session = await createSession(alice, { problem_summary: 'Exports time out after 30 s' });
    for (const [action, outcome] of [
      ['raised the timeout', 'failed'],
      ['split the export', 'partial'],
    ]) {
      await call(`/v1/sessions/${session.id}/steps`, alice, { body: { action, outcome } });
    }
    const card = await escalate(alice, { sessionId: session.id });
    const ctx = await contextOf(alice, card.id);
    expect(ctx.problem_summary).toBe('Exports time out after 30 s');
    expect(ctx.tried.map((t) => [t.action, t.outcome])).toEqual([
      ['raised the timeout', 'failed'],
      ['split the export', 'partial'],
    ]);
    expect(ctx.start_here).toMatchObject({
      session_id: session.id,
      session_url: `/v1/sessions/${session.id}`,
    });
    expect(ctx.start_here.summary.length).toBeGreaterThan(0);
    // The assessment arrives off the request path, through the hub's job.
    const done = await waitFor(async () => {
      const c = await contextOf(alice, card.id);
      return c.ai_status === 'pending' ? undefined : c;
    }, 'assessment');
    expect(done.ai_status).toBe('done');
    // No model is configured (the fake provider stands in for runs only): the heuristic, from the steps.
    expect(done.ai_assessment).toMatchObject({ source: 'heuristic', provider: 'heuristic', model: null });
    expect(done.ai_assessment?.summary).toContain('2 steps tried: 1 failed, 1 partly worked.');
    expect(done.ai_assessment?.ruled_out).toEqual(['“raised the timeout” was tried and did not help.']);
    expect(done.ai_assessment?.likely_cause).toContain('“split the export” partly helped');
    expect(done.ai_assessment?.suggested_next_steps[0]).toBe(
      'Build on what partly worked: “split the export”.',
    );
    expect(done.handoff.version).toBeGreaterThan(card.version);
  });

  it('publishes escalation.assessed with the assessed card', async () => {
    const alice = await makeUser();
    const reader = await openStream(alice);
    const card = await escalate(alice);
    const frames = await reader.events(2, 5_000);
    await reader.close();
    expect(frames.map((f) => f.event)).toEqual(['escalation.created', 'escalation.assessed']);
    const assessed = frames[1]?.data as { card: EscalationCard; version: number };
    expect(assessed.card).toMatchObject({ id: card.id, ai_status: 'done', version: card.version + 1 });
  });

  it('uses a labelled heuristic summary when no provider is configured', async () => {
    const alice = await makeUser();
    const card = await escalate(alice, { severity: 'urgent' });
    await waitFor(
      async () => ((await contextOf(alice, card.id)).ai_status === 'pending' ? undefined : true),
      'job',
    );
    await withDb(async (db) => {
      // Put it back to pending (the hub's job assessed it already, the same way).
      await db
        .update(handoffs)
        .set({ aiStatus: 'pending', aiAssessment: null })
        .where(eq(handoffs.id, card.id));
      const outcome = await assessHandoff(db, null, alice.acct, card.id);
      expect(outcome.kind).toBe('assessed');
      if (outcome.kind !== 'assessed') return;
      expect(outcome.card.ai_assessment).toMatchObject({
        source: 'heuristic',
        provider: 'heuristic',
        model: null,
      });
      expect(outcome.card.ai_assessment?.suggested_next_steps.join(' ')).toMatch(/the escalation is urgent/);
      expect((await assessHandoff(db, null, alice.acct, card.id)).kind).toBe('already_done');
    });
  });

  it('delivers through the outbox when the publish after commit keeps failing, exactly once', async () => {
    const alice = await makeUser();
    const session = await createSession(alice);
    // A transfer names its target: a user the account knows (provisioned by their first call).
    const bob = await colleague(alice, 'engineer', 'Bob');
    await call('/v1/escalations', bob);
    // The hub is unreachable from this request only: the commit succeeds, every publish fails.
    const brokenHub = unreachableHub();
    const ctx = createExecutionContext();
    const res = await app.request(
      `/v1/sessions/${session.id}/handoffs`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          intent: 'transfer',
          reason: 'outbox please',
          severity: 'low',
          to_user_id: bob.sub,
        }),
      },
      { ...env, ACCOUNT_HUB: brokenHub.binding },
      ctx,
    );
    expect(res.status).toBe(201);
    const card = await json<EscalationCard>(res);
    // The Worker retries after answering, then marks the account for the cron.
    await waitOnExecutionContext(ctx);
    expect(brokenHub.attempts()).toBe(4);
    expect(await createdEvents(alice)).toEqual([]);
    const marked = await outboxMarker(env).pending();
    expect(marked.map((m) => m.accountId)).toEqual([alice.acct]);

    const relay = async () => {
      const c = createExecutionContext();
      await scheduled(createScheduledController(), env, c);
      await waitOnExecutionContext(c);
    };
    await relay();
    const events = await createdEvents(alice);
    expect(events.map((e) => (e.data as { card: EscalationCard }).card.id)).toEqual([card.id]);
    expect(await outboxMarker(env).pending()).toEqual([]);
    await relay();
    expect((await createdEvents(alice)).length).toBe(1);
  });

  it('retries a publish that fails once, without the marker', async () => {
    const alice = await makeUser();
    const session = await createSession(alice);
    let attempts = 0;
    const flakyHub = {
      idFromName: (n: string) => env.ACCOUNT_HUB.idFromName(n),
      get: (id: DurableObjectId) => {
        const real = env.ACCOUNT_HUB.get(id);
        return {
          publish: (acct: string, events: never) => {
            attempts++;
            return attempts === 1 ? Promise.reject(new Error('blip')) : real.publish(acct, events);
          },
        };
      },
    };
    const ctx = createExecutionContext();
    const res = await app.request(
      `/v1/sessions/${session.id}/handoffs`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ intent: 'escalate', reason: 'blip', severity: 'low' }),
      },
      { ...env, ACCOUNT_HUB: flakyHub },
      ctx,
    );
    expect(res.status).toBe(201);
    await waitOnExecutionContext(ctx);
    expect(attempts).toBe(2);
    expect((await createdEvents(alice)).length).toBe(1);
    expect(await outboxMarker(env).pending()).toEqual([]);
    await withDb(async (db) => {
      const rows = await db
        .select()
        .from(outbox)
        .where(and(eq(outbox.accountId, alice.acct), eq(outbox.eventType, 'escalation.created')));
      expect(rows.map((r) => r.publishedAt !== null)).toEqual([true]);
    });
  });

  it('answers a create once the hub has logged it, so the snapshot already counts it', async () => {
    const alice = await makeUser();
    const session = await createSession(alice);
    const before = await hubOf(alice).lastEventId('escalations');
    const res = await call(`/v1/sessions/${session.id}/handoffs`, alice, {
      body: { intent: 'escalate', reason: 'read your writes', severity: 'low' },
    });
    expect(res.status).toBe(201);
    const snapshot = await json<{ last_event_id: number }>(await call('/v1/escalations', alice));
    expect(snapshot.last_event_id).toBeGreaterThan(before);
  });

  it('the cron opens no database connection when nothing is marked', async () => {
    const opened: string[] = [];
    const open = (config: Parameters<typeof openDb>[0]) => {
      opened.push(config.DATABASE_URL);
      return openDb(config);
    };
    expect(await redeliverMarked(env, () => {}, open)).toEqual([]);
    expect(opened).toEqual([]);
  });

  it('delivers rows a request left behind at the account’s next database use, and a lost ack once', async () => {
    const alice = await makeUser();
    const session = await createSession(alice);
    const model = await escalate(alice, { sessionId: session.id, reason: 'template' });
    // What a Worker that died between commit and publish leaves: a handoff and its unpublished row.
    const id = crypto.randomUUID();
    await withDb(async (db) => {
      await db.execute(sql`
        insert into handoffs (id, account_id, session_id, created_by, intent, reason, severity)
        values (${id}, ${alice.acct}, ${session.id}, ${alice.sub}, 'escalate', 'left behind', 'normal')`);
      await db.insert(outbox).values({
        accountId: alice.acct,
        topic: 'escalations',
        eventType: 'escalation.created',
        payload: { card: { ...model, id, reason: 'left behind' }, version: 1 },
      });
    });
    const sweepEnv = { ...env, OUTBOX_REDELIVER_AFTER_SECONDS: '0' } as Env;
    const readQueue = async () => {
      const c = createExecutionContext();
      const res = await app.request(
        '/v1/escalations',
        { headers: { authorization: `Bearer ${alice.token}` } },
        sweepEnv,
        c,
      );
      expect(res.status).toBe(200);
      await waitOnExecutionContext(c);
    };
    const createdIds = async () =>
      (await createdEvents(alice)).map((e) => (e.data as { card: EscalationCard }).card.id);
    // (This isolate swept the account when `template` was created: the next sweep is a second later.)
    await waitFor(async () => {
      await readQueue();
      return (await createdIds()).length === 2 ? true : undefined;
    }, 'the left-behind row to be delivered');
    expect(await createdIds()).toEqual([model.id, id]);

    // Published but the acknowledgement lost: the next sweep (a second later at the earliest)
    // publishes again and the hub drops the duplicate.
    await withDb(async (db) => {
      await db.update(outbox).set({ publishedAt: null }).where(eq(outbox.accountId, alice.acct));
      await waitFor(async () => {
        await readQueue();
        const rows = await db.select().from(outbox).where(eq(outbox.accountId, alice.acct));
        return rows.every((r) => r.publishedAt !== null) ? true : undefined;
      }, 'the sweep to acknowledge the rows again');
    });
    expect(await createdIds()).toEqual([model.id, id]);
  });

  it('answers 503 with Postgres down during a create, writing and publishing nothing', async () => {
    const alice = await makeUser();
    const session = await createSession(alice);
    const before = await hubOf(alice).lastEventId('escalations');
    const ctx = createExecutionContext();
    const res = await app.request(
      `/v1/sessions/${session.id}/handoffs`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ intent: 'escalate', reason: 'db is down', severity: 'high' }),
      },
      { ...env, DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:1/postgres' },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    await expectError(res, 503, 'database_unavailable');
    expect(await hubOf(alice).lastEventId('escalations')).toBe(before);
    const snapshot = await json<{ items: EscalationCard[] }>(await call('/v1/escalations', alice));
    expect(snapshot.items).toEqual([]);
  });

  it('answers bad input on every endpoint with the JSON error', async () => {
    const alice = await makeUser();
    const viewer = await colleague(alice, 'viewer');
    const stranger = await makeUser({ role: 'admin' });
    const session = await createSession(alice);
    const path = `/v1/sessions/${session.id}/handoffs`;
    for (const body of [
      {},
      { intent: 'escalate', reason: 'x', severity: 'critical' },
      { intent: 'shout', reason: 'x', severity: 'low' },
      { intent: 'escalate', reason: '', severity: 'low' },
      { intent: 'escalate', reason: 'x', severity: 'low', to_user_id: 'bob' },
      { intent: 'escalate', reason: 'x', severity: 'low', extra: 1 },
      [],
      'text',
    ]) {
      await expectError(await call(path, alice, { body: JSON.stringify(body) }), 400);
    }
    const ok = { intent: 'escalate', reason: 'x', severity: 'low' };
    await expectError(
      await call(path, alice, { body: ok, headers: { 'idempotency-key': 'has space' } }),
      400,
    );
    await expectError(await call(path, alice, { body: '{' }), 400, 'malformed_json');
    await expectError(await call(path, alice, { body: 'x', headers: { 'content-type': 'text/plain' } }), 415);
    await expectError(await call(path, viewer, { body: ok }), 403);
    await expectError(await call(path, stranger, { body: ok }), 404, 'not_found');
    await expectError(await call(`/v1/sessions/${crypto.randomUUID()}/handoffs`, alice, { body: ok }), 404);
    await expectError(await call('/v1/sessions/nope/handoffs', alice, { body: ok }), 400);

    const card = await escalate(alice);
    for (const action of ['pickup', 'resolve', 'cancel']) {
      await expectError(await call(`/v1/handoffs/not-a-uuid/${action}`, alice, { method: 'POST' }), 400);
      await expectError(
        await call(`/v1/handoffs/${crypto.randomUUID()}/${action}`, alice, { method: 'POST' }),
        404,
      );
      await expectError(await call(`/v1/handoffs/${card.id}/${action}`, stranger, { method: 'POST' }), 404);
      await expectError(await call(`/v1/handoffs/${card.id}/${action}`, viewer, { method: 'POST' }), 403);
    }
    await expectError(await call(`/v1/handoffs/${card.id}/context`, stranger), 404);
    await expectError(await call('/v1/handoffs/x/context', alice), 400);
    for (const q of ['status=lost', 'limit=500', 'cursor=zzz']) {
      await expectError(await call(`/v1/escalations?${q}`, alice), 400);
    }
  });
});

describe('escalation metrics', () => {
  it('counts by status and severity and computes time to pick-up per day', async () => {
    const admin = await makeUser({ role: 'admin' });
    const session = await createSession(admin);
    const at = (iso: string) => new Date(iso);
    await withDb(async (db) => {
      // Pick-up times on day one: 60, 120, 180, 240 s; day two: 600 s and one never picked up.
      const rows = [
        ['2026-03-01T10:00:00Z', 60, 'high', 'picked_up'],
        ['2026-03-01T11:00:00Z', 120, 'high', 'resolved'],
        ['2026-03-01T12:00:00Z', 180, 'low', 'picked_up'],
        ['2026-03-01T13:00:00Z', 240, 'urgent', 'picked_up'],
        ['2026-03-02T09:00:00Z', 600, 'normal', 'picked_up'],
        ['2026-03-02T10:00:00Z', null, 'normal', 'open'],
      ] as const;
      for (const [created, wait, severity, status] of rows) {
        await db.insert(handoffs).values({
          accountId: admin.acct,
          sessionId: session.id,
          createdBy: admin.sub,
          intent: 'escalate',
          reason: 'seeded',
          severity,
          status,
          createdAt: at(created),
          pickedUpAt: wait === null ? null : new Date(at(created).getTime() + wait * 1000),
          pickedUpBy: wait === null ? null : admin.sub,
        });
      }
    });
    const res = await call('/v1/escalations/metrics?from=2026-03-01&to=2026-03-03', admin);
    const m = await json<{
      totals: { total: number; by_status: Record<string, number>; by_severity: Record<string, number> };
      time_to_pickup_seconds: { count: number; median: number; p90: number };
      per_day: { date: string; created: number; picked_up: number; median_seconds: number | null }[];
    }>(res);
    expect(m.totals).toEqual({
      total: 6,
      by_status: { open: 1, picked_up: 4, resolved: 1, cancelled: 0 },
      by_severity: { low: 1, normal: 2, high: 2, urgent: 1 },
    });
    // Five pick-ups: 60, 120, 180, 240, 600 → median 180; p90 interpolates 240→600 at 0.6: 456.
    expect(m.time_to_pickup_seconds).toEqual({ count: 5, median: 180, p90: 456 });
    expect(m.per_day).toEqual([
      { date: '2026-03-01', created: 4, picked_up: 4, median_seconds: 150, p90_seconds: 222 },
      { date: '2026-03-02', created: 2, picked_up: 1, median_seconds: 600, p90_seconds: 600 },
    ]);
  });

  it('is for admins, and rejects bad ranges', async () => {
    const admin = await makeUser({ role: 'admin' });
    const engineer = await colleague(admin);
    await expectError(await call('/v1/escalations/metrics', engineer), 403);
    for (const q of ['from=yesterday', 'from=2026-03-05&to=2026-03-01', 'from=2020-01-01&to=2026-01-01']) {
      await expectError(await call(`/v1/escalations/metrics?${q}`, admin), 400, 'validation_failed');
    }
    const empty = await json<{ totals: { total: number } }>(await call('/v1/escalations/metrics', admin));
    expect(empty.totals.total).toBe(0);
  });
});
