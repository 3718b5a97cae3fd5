import {
  createExecutionContext,
  createScheduledController,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../worker/app';
import { getConfig } from '../worker/config';
import type { EscalationCard } from '../worker/contract/events';
import { fireTimers } from '../worker/escalations/clock-store';
import { timerJobId } from '../worker/escalations/clock-timers';
import { scheduled } from '../worker/scheduled';
import {
  armed,
  card,
  DEAD_DATABASE,
  eventsOf,
  fire,
  hubDatabase,
  runAlarm,
  timeline,
  timerJobs,
} from './clock-helpers';
import { escalate, hubOf, waitFor } from './escalation-helpers';
import { call, colleague, expectError, json, makeUser, type TestUser, withDb } from './helpers';

const ALL_TIMERS = [
  'pickup_warning',
  'pickup_breach',
  'resolve_warning',
  'resolve_breach',
  'reescalate',
] as const;
const secondsBetween = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 1000;

/** Waits for the assessment, so its job does not race what a test does to the hub. */
const assessed = (user: TestUser, id: string) =>
  waitFor(async () => ((await card(user, id)).ai_status === 'pending' ? undefined : true), 'assessment');

describe('SLA clocks and re-escalation', () => {
  it('gives each card its clocks from the default policy, and arms one timer per clock and level', async () => {
    const alice = await makeUser();
    const created = await escalate(alice, { severity: 'urgent' });
    expect(created).toMatchObject({
      level: 0,
      notify: 'everyone',
      policy_version: 0,
      sla: { pickup: 'ok', resolve: 'ok' },
    });
    const at = created.created_at;
    expect(secondsBetween(at, created.sla.pickup_warn_at)).toBe(225);
    expect(secondsBetween(at, created.sla.pickup_due_at)).toBe(300);
    expect(secondsBetween(at, created.sla.resolve_warn_at)).toBe(10_800);
    expect(secondsBetween(at, created.sla.resolve_due_at)).toBe(14_400);
    expect(secondsBetween(at, created.next_level_at ?? '')).toBe(120);
    const jobs = await armed(alice, created.id, ALL_TIMERS);
    expect(jobs.find((j) => j.id === timerJobId(created.id, 'reescalate'))?.run_at).toBe(
      Date.parse(created.next_level_at ?? ''),
    );
    // A severity without levels has no re-escalation.
    const low = await escalate(alice, { severity: 'low' });
    expect(low.next_level_at).toBeNull();
    await armed(alice, low.id, ['pickup_warning', 'pickup_breach', 'resolve_warning', 'resolve_breach']);
  });

  it('warns, then breaches, each once, with the card, a timeline row and no actor', async () => {
    const alice = await makeUser();
    const c = await escalate(alice, { severity: 'high' });
    await armed(alice, c.id, ALL_TIMERS);
    await fire(alice, c.id, ['pickup_warning']);
    const [warning] = await eventsOf(alice, c.id, 'escalation.sla_warning');
    expect(warning?.data).toMatchObject({
      clock: 'pickup',
      card: { sla: { pickup: 'warning', resolve: 'ok' } },
    });
    expect(warning?.data.version).toBe(warning?.data.card.version);
    await armed(alice, c.id, ['pickup_breach', 'resolve_warning', 'resolve_breach', 'reescalate']);
    await fire(alice, c.id, ['pickup_breach']);
    const [breach] = await eventsOf(alice, c.id, 'escalation.sla_breached');
    expect(breach?.data).toMatchObject({ clock: 'pickup', card: { sla: { pickup: 'breached' } } });
    // Nothing more for this clock, however often the alarm runs.
    await runAlarm(alice);
    expect(await eventsOf(alice, c.id, 'escalation.sla_warning', 'escalation.sla_breached')).toHaveLength(2);
    const types = (await timeline(alice, c.id)).items.map((i) => [i.type, i.actor, i.details.clock]);
    expect(types.filter(([t]) => t === 'sla_warning' || t === 'sla_breached')).toEqual([
      ['sla_warning', null, 'pickup'],
      ['sla_breached', null, 'pickup'],
    ]);
    // A picked-up card's breached clock stays breached; its resolve clock keeps running.
    const bob = await colleague(alice, 'engineer', 'Bob');
    const picked = await json<EscalationCard>(
      await call(`/v1/handoffs/${c.id}/pickup`, bob, { method: 'POST' }),
    );
    expect(picked.sla).toMatchObject({ pickup: 'breached', resolve: 'ok' });
    expect(picked.next_level_at).toBeNull();
    await armed(alice, c.id, ['resolve_warning', 'resolve_breach']);
  });

  it('sends a card due for both its warning and its breach in one alarm the warning first', async () => {
    const alice = await makeUser();
    const c = await escalate(alice, { severity: 'normal' });
    await armed(alice, c.id, ['pickup_warning', 'pickup_breach', 'resolve_warning', 'resolve_breach']);
    await fire(alice, c.id, ['pickup_warning', 'pickup_breach']);
    // One change per card per batch: the breach waits for the next alarm, a few ms later.
    await runAlarm(alice);
    const events = await eventsOf(alice, c.id, 'escalation.sla_warning', 'escalation.sla_breached');
    expect(events.map((e) => e.type)).toEqual(['escalation.sla_warning', 'escalation.sla_breached']);
  });

  it('re-escalates level by level without drift, repeats, then stops; asking=me follows notify', async () => {
    const alice = await makeUser();
    const admin = await colleague(alice, 'admin', 'Ada');
    const bob = await colleague(alice, 'engineer', 'Bob');
    const c = await escalate(alice, { severity: 'urgent' });
    await armed(alice, c.id, ALL_TIMERS);
    const asking = async (who: TestUser) =>
      (await json<{ items: EscalationCard[] }>(await call('/v1/escalations?asking=me', who))).items.map(
        (i) => i.id,
      );
    expect(await asking(admin)).toEqual([]);
    // Default urgent: level 1 after 120 s (everyone), level 2 300 s later (admins), once more.
    const expected = [
      { level: 1, notify: 'everyone', gap: 300 },
      { level: 2, notify: 'admins', gap: 120 },
      { level: 1, notify: 'everyone', gap: 300 },
      { level: 2, notify: 'admins', gap: null },
    ];
    let due = c.next_level_at as string;
    for (const [i, step] of expected.entries()) {
      await fire(alice, c.id, ['reescalate']);
      const events = await eventsOf(alice, c.id, 'escalation.reescalated');
      expect(events).toHaveLength(i + 1);
      const data = events.at(-1)?.data as { level: number; notify: unknown; card: EscalationCard };
      expect(data).toMatchObject({ level: step.level, notify: step.notify, card: { level: step.level } });
      if (step.gap === null) {
        expect(data.card.next_level_at).toBeNull();
      } else {
        // Each level is due after the previous level's due time, however late that one fired.
        expect(secondsBetween(due, data.card.next_level_at ?? '')).toBe(step.gap);
        due = data.card.next_level_at as string;
      }
      if (step.notify === 'admins') {
        expect(await asking(admin)).toEqual([c.id]);
        expect(await asking(bob)).toEqual([]);
      }
    }
    await armed(alice, c.id, ['pickup_warning', 'pickup_breach', 'resolve_warning', 'resolve_breach']);
    await runAlarm(alice);
    expect(await eventsOf(alice, c.id, 'escalation.reescalated')).toHaveLength(4);
    const items = (await timeline(alice, c.id)).items.filter((i) => i.type === 'reescalated');
    expect(items.map((i) => i.details)).toEqual(expected.map(({ level, notify }) => ({ level, notify })));
  });

  it('stops re-escalation at pick-up and restarts it at level 1 on release', async () => {
    const alice = await makeUser();
    const bob = await colleague(alice, 'engineer', 'Bob');
    const c = await escalate(alice, { severity: 'urgent' });
    await armed(alice, c.id, ALL_TIMERS);
    await fire(alice, c.id, ['reescalate']);
    const picked = await json<EscalationCard>(
      await call(`/v1/handoffs/${c.id}/pickup`, bob, { method: 'POST' }),
    );
    expect(picked).toMatchObject({
      status: 'picked_up',
      level: 1,
      next_level_at: null,
      sla: { pickup: 'met' },
    });
    await armed(alice, c.id, ['resolve_warning', 'resolve_breach']);
    const before = Date.now();
    const res = await call(`/v1/handoffs/${c.id}/release`, bob, {
      body: { reason: 'need a network engineer' },
    });
    expect(res.status).toBe(200);
    const released = await json<EscalationCard>(res);
    expect(released).toMatchObject({
      status: 'open',
      picked_up_by: null,
      picked_up_at: null,
      level: 0,
      notify: 'everyone',
      // The pick-up clock stopped at the first pick-up: a release does not restart it.
      sla: { pickup: 'met', resolve: 'ok' },
    });
    const nextAt = Date.parse(released.next_level_at ?? '');
    expect(nextAt).toBeGreaterThanOrEqual(before + 120_000 - 1_000);
    expect(nextAt).toBeLessThanOrEqual(Date.now() + 120_000 + 1_000);
    await armed(alice, c.id, ['resolve_warning', 'resolve_breach', 'reescalate']);
    const [event] = await eventsOf(alice, c.id, 'escalation.released');
    expect(event?.data).toMatchObject({
      by: { id: bob.sub, name: 'Bob' },
      reason: 'need a network engineer',
      card: { status: 'open' },
    });
    await fire(alice, c.id, ['reescalate']);
    const levels = (await eventsOf(alice, c.id, 'escalation.reescalated')).map(
      (e) => (e.data as { level: number }).level,
    );
    expect(levels).toEqual([1, 1]);
    const tl = (await timeline(alice, c.id)).items;
    expect(tl.map((i) => i.type)).toEqual(
      expect.arrayContaining(['created', 'reescalated', 'picked_up', 'released', 'reescalated']),
    );
    expect(tl.find((i) => i.type === 'released')).toMatchObject({
      actor: { user_id: bob.sub, name: 'Bob' },
      details: { reason: 'need a network engineer' },
    });
  });

  it('gives no breach to a card resolved a moment before its timer fires', async () => {
    const alice = await makeUser();
    const c = await escalate(alice, { severity: 'high' });
    await armed(alice, c.id, ALL_TIMERS);
    await assessed(alice, c.id);
    // Resolved while the hub cannot be told (its publish fails): the timer is still armed.
    const brokenHub = {
      idFromName: (n: string) => env.ACCOUNT_HUB.idFromName(n),
      get: () => ({ publish: () => Promise.reject(new Error('hub unreachable')) }),
    };
    const ctx = createExecutionContext();
    const res = await app.request(
      `/v1/handoffs/${c.id}/resolve`,
      { method: 'POST', headers: { authorization: `Bearer ${alice.token}` } },
      { ...env, ACCOUNT_HUB: brokenHub },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect((await json<EscalationCard>(res)).sla).toEqual(
      expect.objectContaining({ pickup: 'met', resolve: 'met' }),
    );
    expect((await timerJobs(alice, c.id)).map((j) => j.id)).toContain(timerJobId(c.id, 'pickup_breach'));
    await fire(alice, c.id, ALL_TIMERS);
    // One timer of a card per batch: the alarm runs until each has had its turn.
    for (let i = 0; i < ALL_TIMERS.length; i++) await runAlarm(alice);
    expect(
      await eventsOf(
        alice,
        c.id,
        'escalation.sla_warning',
        'escalation.sla_breached',
        'escalation.reescalated',
      ),
    ).toEqual([]);
    expect((await card(alice, c.id)).sla).toMatchObject({ pickup: 'met', resolve: 'met' });
    // The timers did their work (nothing) and are gone.
    expect(await timerJobs(alice, c.id)).toEqual([]);
    expect((await timeline(alice, c.id)).items.map((i) => i.type)).toEqual([
      'created',
      'assessed',
      'resolved',
    ]);
  });

  it('arms timers from the newest card even when an older event reaches the hub late', async () => {
    const alice = await makeUser();
    const bob = await colleague(alice, 'engineer', 'Bob');
    const c = await escalate(alice, { severity: 'urgent' });
    await armed(alice, c.id, ALL_TIMERS);
    // The pick-up commits, but its event does not reach the hub (the relay will deliver it).
    const brokenHub = {
      idFromName: (n: string) => env.ACCOUNT_HUB.idFromName(n),
      get: () => ({ publish: () => Promise.reject(new Error('hub unreachable')) }),
    };
    const ctx = createExecutionContext();
    const picked = await app.request(
      `/v1/handoffs/${c.id}/pickup`,
      { method: 'POST', headers: { authorization: `Bearer ${bob.token}` } },
      { ...env, ACCOUNT_HUB: brokenHub },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(picked.status).toBe(200);
    // The release does reach it: a new level-1 time.
    const released = await json<EscalationCard>(
      await call(`/v1/handoffs/${c.id}/release`, bob, { body: {} }),
    );
    const rearmed = await waitFor(async () => {
      const job = (await timerJobs(alice, c.id)).find((j) => j.id === timerJobId(c.id, 'reescalate'));
      return job?.run_at === Date.parse(released.next_level_at ?? '') ? job : undefined;
    }, 'the release to re-arm the level');
    // Now the relay delivers the older pick-up: logged, but it changes no timer.
    const relayCtx = createExecutionContext();
    await scheduled(
      createScheduledController(),
      { ...env, OUTBOX_REDELIVER_AFTER_SECONDS: '0' } as Env,
      relayCtx,
    );
    await waitOnExecutionContext(relayCtx);
    await waitFor(
      async () => ((await eventsOf(alice, c.id, 'escalation.picked_up')).length === 1 ? true : undefined),
      'the late pick-up event',
    );
    const after = (await timerJobs(alice, c.id)).find((j) => j.id === timerJobId(c.id, 'reescalate'));
    expect(after?.run_at).toBe(rearmed.run_at);
  });

  it('forgets a closed card a day after it closed (its versions are kept for late events only)', async () => {
    const alice = await makeUser();
    const open = await escalate(alice, { severity: 'low' });
    const closed = await escalate(alice, { severity: 'low' });
    for (const c of [open, closed]) await assessed(alice, c.id);
    await call(`/v1/handoffs/${closed.id}/resolve`, alice, { method: 'POST' });
    await waitFor(async () => ((await timerJobs(alice, closed.id)).length === 0 ? true : undefined), 'close');
    const remembered = () =>
      runInDurableObject(hubOf(alice), (_h, state) =>
        state.storage.sql
          .exec<{ card_id: string }>('select card_id from escalation_cards order by card_id')
          .toArray()
          .map((r) => r.card_id),
      );
    expect(await remembered()).toEqual([open.id, closed.id].sort());
    await runInDurableObject(hubOf(alice), (_h, state) => {
      state.storage.sql.exec(
        'update escalation_cards set closed_at = closed_at - 86400001 where card_id = ?',
        closed.id,
      );
      state.storage.sql.exec("update jobs set run_at = 0 where kind = 'purge'");
    });
    await runAlarm(alice);
    expect(await remembered()).toEqual([open.id]);
  });

  it('retries a timer due while Postgres is down, and fires it late rather than never', async () => {
    const alice = await makeUser();
    const c = await escalate(alice, { severity: 'urgent' });
    await armed(alice, c.id, ALL_TIMERS);
    await assessed(alice, c.id);
    await hubDatabase(alice, DEAD_DATABASE);
    await fire(alice, c.id, ['pickup_warning']);
    const [failed] = (await timerJobs(alice, c.id)).filter(
      (j) => j.id === timerJobId(c.id, 'pickup_warning'),
    );
    expect(failed?.attempts).toBe(1);
    expect(failed?.run_at).toBeGreaterThan(Date.now() - 1_000);
    expect(failed?.last_error).toBeTruthy();
    expect(await eventsOf(alice, c.id, 'escalation.sla_warning')).toEqual([]);
    // Still down at the next attempt: the backoff grows.
    await fire(alice, c.id, ['pickup_warning']);
    expect(
      (await timerJobs(alice, c.id)).find((j) => j.id === timerJobId(c.id, 'pickup_warning'))?.attempts,
    ).toBe(2);
    // Back: the next attempt fires it, once.
    await hubDatabase(alice, getConfig(env).DATABASE_URL);
    await fire(alice, c.id, ['pickup_warning']);
    expect(await eventsOf(alice, c.id, 'escalation.sla_warning')).toHaveLength(1);
    expect((await timerJobs(alice, c.id)).map((j) => j.id)).not.toContain(timerJobId(c.id, 'pickup_warning'));
  });

  it('fires each pending timer exactly once across a hub restart', async () => {
    const alice = await makeUser();
    const cards = [
      await escalate(alice, { severity: 'urgent' }),
      await escalate(alice, { severity: 'high' }),
    ];
    for (const c of cards) {
      await armed(alice, c.id, ALL_TIMERS);
      await assessed(alice, c.id);
    }
    const hub = hubOf(alice);
    await runInDurableObject(hub, (_h, state) => {
      for (const c of cards) {
        state.storage.sql.exec('update jobs set run_at = 0 where id = ?', timerJobId(c.id, 'pickup_warning'));
        state.storage.sql.exec('update jobs set run_at = 0 where id = ?', timerJobId(c.id, 'reescalate'));
      }
    });
    // A hard restart with the timers due and not yet run (as a crash would leave them).
    await runInDurableObject(hub, (_h, state) => state.abort('simulated restart')).catch(() => undefined);
    for (let i = 0; i < 3; i++) await runAlarm(alice);
    for (const c of cards) {
      expect(await eventsOf(alice, c.id, 'escalation.sla_warning')).toHaveLength(1);
      expect(await eventsOf(alice, c.id, 'escalation.reescalated')).toHaveLength(1);
    }
    // And a restart right after Postgres committed a timer's change but before the hub marked
    // the job done: the job runs again, finds the change made, and sends nothing twice.
    const [first] = cards as [EscalationCard, EscalationCard];
    await withDb((db) =>
      fireTimers(db, alice.acct, [
        { handoffId: first.id, timer: 'pickup_breach', due: first.sla.pickup_due_at },
      ]),
    );
    await runInDurableObject(hub, (_h, state) => state.abort('simulated restart')).catch(() => undefined);
    await fire(alice, first.id, ['pickup_breach']);
    expect((await timeline(alice, first.id)).items.filter((i) => i.type === 'sla_breached')).toHaveLength(1);
    expect(await timerJobs(alice, first.id).then((jobs) => jobs.map((j) => j.id))).not.toContain(
      timerJobId(first.id, 'pickup_breach'),
    );
  });
});

describe('release and transfer', () => {
  it('lets the holder or an admin release; anyone else 403, a card not picked up 409', async () => {
    const alice = await makeUser();
    const bob = await colleague(alice, 'engineer', 'Bob');
    const carol = await colleague(alice, 'engineer', 'Carol');
    const admin = await colleague(alice, 'admin', 'Ada');
    const viewer = await colleague(alice, 'viewer', 'Vic');
    const stranger = await makeUser({ role: 'admin' });
    const c = await escalate(alice);
    const release = (who: TestUser, body: unknown = {}) =>
      call(`/v1/handoffs/${c.id}/release`, who, { body });
    await expectError(await release(bob), 409, 'invalid_state');
    await call(`/v1/handoffs/${c.id}/pickup`, bob, { method: 'POST' });
    const refused = await expectError(await release(carol), 403, 'forbidden');
    expect(refused.message).toContain('Bob');
    await expectError(await release(viewer), 403, 'forbidden');
    await expectError(await release(stranger), 404, 'not_found');
    await expectError(await release(bob, { reason: '' }), 400, 'validation_failed');
    await expectError(await release(bob, { why: 'x' }), 400, 'validation_failed');
    await expectError(await call(`/v1/handoffs/nope/release`, bob, { body: {} }), 400);
    // Refused attempts changed nothing.
    expect((await card(alice, c.id)).picked_up_by?.id).toBe(bob.sub);
    const byAdmin = await release(admin);
    expect(byAdmin.status).toBe(200);
    expect((await json<EscalationCard>(byAdmin)).status).toBe('open');
    // A release without a body is a release without a reason.
    await call(`/v1/handoffs/${c.id}/pickup`, carol, { method: 'POST' });
    const bare = await call(`/v1/handoffs/${c.id}/release`, carol, { method: 'POST' });
    expect(bare.status).toBe(200);
    const events = await eventsOf(alice, c.id, 'escalation.released');
    expect(events.map((e) => (e.data as { by: { name: string }; reason: unknown }).by.name)).toEqual([
      'Ada',
      'Carol',
    ]);
    expect(events.map((e) => (e.data as { reason: unknown }).reason)).toEqual([null, null]);
    await call(`/v1/handoffs/${c.id}/resolve`, alice, { method: 'POST' });
    await expectError(await release(admin), 409, 'invalid_state');
  });

  it('requires a transfer target of the same account, and asks only that user first', async () => {
    const alice = await makeUser();
    const bob = await colleague(alice, 'engineer', 'Bob');
    const viewer = await colleague(alice, 'viewer', 'Vic');
    const outsider = await makeUser();
    for (const u of [bob, viewer, outsider]) await call('/v1/escalations', u);
    const sessionId = (
      await json<{ id: string }>(
        await call('/v1/sessions', alice, { body: { title: 'Printer', problem_summary: 'Jams' } }),
      )
    ).id;
    const path = `/v1/sessions/${sessionId}/handoffs`;
    const transfer = (extra: Record<string, unknown>) =>
      call(path, alice, { body: { intent: 'transfer', reason: 'yours now', severity: 'normal', ...extra } });
    const missing = await expectError(await transfer({}), 400, 'validation_failed');
    expect(missing.details).toEqual([{ field: 'to_user_id', message: expect.stringContaining('transfer') }]);
    for (const to of [outsider.sub, viewer.sub, crypto.randomUUID()]) {
      const err = await expectError(await transfer({ to_user_id: to }), 400, 'validation_failed');
      expect(err.details).toEqual([
        { field: 'to_user_id', message: 'must be an engineer or admin of this account' },
      ]);
    }
    // Nothing was written by the refused ones.
    expect((await json<{ items: unknown[] }>(await call('/v1/escalations', alice))).items).toEqual([]);
    const ok = await transfer({ to_user_id: bob.sub });
    expect(ok.status).toBe(201);
    const c = await json<EscalationCard>(ok);
    expect(c).toMatchObject({ intent: 'transfer', to_user_id: bob.sub, notify: [bob.sub], level: 0 });
    const asking = async (who: TestUser) =>
      (await json<{ items: EscalationCard[] }>(await call('/v1/escalations?asking=me', who))).items.map(
        (i) => i.id,
      );
    expect(await asking(bob)).toEqual([c.id]);
    expect(await asking(alice)).toEqual([]);
    await expectError(await call('/v1/escalations?asking=you', bob), 400, 'validation_failed');
    // Once picked up it asks nobody.
    await call(`/v1/handoffs/${c.id}/pickup`, bob, { method: 'POST' });
    expect(await asking(bob)).toEqual([]);
  });
});

describe('timeline', () => {
  it('records every change in order, who made it, and answers 404 across accounts', async () => {
    const alice = await makeUser({ name: 'Alice' });
    const bob = await colleague(alice, 'engineer', 'Bob');
    const c = await escalate(alice, { severity: 'urgent', reason: 'stuck' });
    await assessed(alice, c.id);
    await call(`/v1/handoffs/${c.id}/pickup`, bob, { method: 'POST' });
    await call(`/v1/handoffs/${c.id}/release`, bob, { body: { reason: 'shift over' } });
    await call(`/v1/handoffs/${c.id}/pickup`, alice, { method: 'POST' });
    const final = await json<EscalationCard>(
      await call(`/v1/handoffs/${c.id}/resolve`, alice, { method: 'POST' }),
    );
    const { items } = await timeline(bob, c.id);
    expect(items.map((i) => [i.type, i.actor?.name ?? null])).toEqual([
      ['created', 'Alice'],
      ['assessed', null],
      ['picked_up', 'Bob'],
      ['released', 'Bob'],
      ['picked_up', 'Alice'],
      ['resolved', 'Alice'],
    ]);
    expect(items.map((i) => i.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(items.at(-1)?.version).toBe(final.version);
    expect(items[0]?.details).toMatchObject({
      intent: 'escalate',
      severity: 'urgent',
      reason: 'stuck',
      policy_version: 0,
    });
    expect(items[0]?.at).toBe(c.created_at);
    const times = items.map((i) => Date.parse(i.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    await expectError(await call(`/v1/handoffs/${c.id}/timeline`, await makeUser()), 404, 'not_found');
    await expectError(await call(`/v1/handoffs/${crypto.randomUUID()}/timeline`, alice), 404, 'not_found');
    await expectError(await call('/v1/handoffs/nope/timeline', alice), 400);
  });
});
