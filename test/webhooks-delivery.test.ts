import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { webhookDeliveries } from '../worker/db/schema';
import { hubFor } from '../worker/hub/hub-client';
import { escalate, waitFor } from './escalation-helpers';
import { call, colleague, expectError, json, makeUser, usageTotals, withDb } from './helpers';
import { humanGraph, runGraph, waitForStatus } from './runs-helpers';
import {
  type Delivery,
  deliveries,
  deliveriesUntil,
  deliveryJobs,
  getEndpoint,
  newHook,
  type Received,
  received,
  receivedAtLeast,
  register,
  script,
} from './webhook-helpers';

const admin = () => makeUser({ role: 'admin', name: 'Ada Admin' });
const bodyOf = <T = { type: string; timestamp: string; data: Record<string, unknown> }>(r: Received) =>
  JSON.parse(r.body) as T;
const ofType = (list: Received[], type: string) => list.filter((r) => bodyOf(r).type === type);

/** Standard Webhooks' own verifier, as a receiver would run it. */
const verify = (secret: string, r: Received) => new Webhook(secret).verify(r.body, r.headers);

describe('webhook delivery', () => {
  it('signs each delivery so the standardwebhooks library verifies it, and logs the attempt', async () => {
    const ada = await admin();
    const hook = newHook();
    const e = await register(ada, { url: hook.url, events: ['escalation.created'] });
    const card = await escalate(ada, { severity: 'urgent' });
    const [got] = await receivedAtLeast(hook.key, 1);
    if (!got || !e.secret) throw new Error('no delivery');
    expect(verify(e.secret, got)).toEqual(JSON.parse(got.body));
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    const body = bodyOf<{ type: string; timestamp: string; data: { card: { id: string }; version: number } }>(
      got,
    );
    expect(body.type).toBe('escalation.created');
    expect(Date.parse(body.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(body.data.card.id).toBe(card.id);
    expect(body.data.version).toBe(card.version);
    // Tampering, a wrong secret or a replayed old timestamp fail verification.
    expect(() => verify(e.secret as string, { ...got, body: got.body.replace('urgent', 'low') })).toThrow();
    expect(() => verify(`whsec_${btoa('another secret of enough length')}`, got)).toThrow();
    const log = await deliveriesUntil(ada, e.id, (l) => l.length === 1, 'the attempt in the log');
    expect(log[0]).toMatchObject({
      event_id: got.headers['webhook-id'],
      type: 'escalation.created',
      attempt: 1,
      status: 'succeeded',
      response_status: 200,
      response_body: '{"ok":true}',
      error: null,
      next_attempt_at: null,
    });
    expect(log[0]?.duration_ms).toBeGreaterThanOrEqual(0);
    // Only the subscribed type: the assessment that follows is not sent.
    await waitFor(
      async () => ((await call(`/v1/handoffs/${card.id}/context`, ada)).ok ? true : undefined),
      'ctx',
    );
    expect(ofType(await received(hook.key), 'escalation.assessed')).toEqual([]);
  });

  it('after a rotation, signs with the new and the old secret; each verifies alone', async () => {
    const ada = await admin();
    const hook = newHook();
    const e = await register(ada, { url: hook.url, events: ['escalation.created'] });
    const rotated = await json<{ secret: string }>(
      await call(`/v1/webhooks/${e.id}`, ada, { method: 'PATCH', body: { rotate_secret: true } }),
    );
    await escalate(ada);
    const [got] = await receivedAtLeast(hook.key, 1);
    if (!got) throw new Error('no delivery');
    const signatures = got.headers['webhook-signature']?.split(' ') ?? [];
    expect(signatures).toHaveLength(2);
    expect(verify(rotated.secret, got)).toBeTruthy();
    expect(verify(e.secret as string, got)).toBeTruthy();
    // Once the grace period is over (aged in the hub's copy), only the new one signs.
    await runInDurableObject(hubFor(env, ada.acct), (_h, state) => {
      state.storage.sql.exec(
        'update webhook_endpoints set previous_expires_at = ? where id = ?',
        Date.now() - 1,
        e.id,
      );
    });
    await escalate(ada);
    const second = (await receivedAtLeast(hook.key, 2))[1] as Received;
    expect(second.headers['webhook-signature']?.split(' ')).toHaveLength(1);
    expect(verify(rotated.secret, second)).toBeTruthy();
    expect(() => verify(e.secret as string, second)).toThrow();
  });

  it('retries on the schedule with the same webhook-id, then succeeds; each attempt is a row', async () => {
    const ada = await admin();
    const hook = newHook();
    await script(hook.key, [{ status: 500, body: 'down' }, { status: 503 }, { status: 200 }]);
    const e = await register(ada, { url: hook.url, events: ['escalation.created'] });
    await escalate(ada);
    const got = await receivedAtLeast(hook.key, 3, 15_000);
    const ids = new Set(got.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    for (const r of got) expect(verify(e.secret as string, r)).toBeTruthy();
    const log = await deliveriesUntil(ada, e.id, (l) => l.length === 3, 'three attempts');
    const byAttempt = [...log].sort((a, b) => a.attempt - b.attempt);
    expect(byAttempt.map((d) => [d.attempt, d.status, d.response_status])).toEqual([
      [1, 'pending', 500],
      [2, 'pending', 503],
      [3, 'succeeded', 200],
    ]);
    expect(byAttempt[0]?.response_body).toBe('down');
    expect(byAttempt[0]?.error).toBe('HTTP 500');
    // The delays between attempts follow WEBHOOK_RETRY_SCHEDULE (1 s, then 2 s, in tests).
    const first = byAttempt[0] as Delivery;
    expect(Date.parse(first.next_attempt_at ?? '') - Date.parse(first.at)).toBe(1000);
    expect(Date.parse(byAttempt[1]?.next_attempt_at ?? '') - Date.parse(byAttempt[1]?.at ?? '')).toBe(2000);
    expect(byAttempt[2]?.next_attempt_at).toBeNull();
    expect((await getEndpoint(ada, e.id)).enabled).toBe(true);
  });

  it('gives up after the last attempt: the delivery is failed', async () => {
    const ada = await admin();
    const hook = newHook();
    await script(hook.key, [{ status: 500 }]);
    const e = await register(ada, { url: hook.url, events: ['ping'] });
    await call(`/v1/webhooks/${e.id}/test`, ada, { method: 'POST' });
    const log = await deliveriesUntil(
      ada,
      e.id,
      (l) => l.some((d) => d.status === 'failed'),
      'failed',
      15_000,
    );
    expect(log.map((d) => [d.attempt, d.status]).sort()).toEqual([
      [1, 'pending'],
      [2, 'pending'],
      [3, 'pending'],
      [4, 'failed'],
    ]);
    expect(await deliveryJobs(ada.acct, e.id)).toEqual([]);
    expect(await received(hook.key)).toHaveLength(4);
    // Failing once is not failing for five days: still on.
    expect((await getEndpoint(ada, e.id)).enabled).toBe(true);
  });

  it('410 Gone disables the endpoint at once; nothing more is sent to it', async () => {
    const ada = await admin();
    const hook = newHook();
    await script(hook.key, [{ status: 410 }]);
    const e = await register(ada, { url: hook.url, events: ['escalation.*'] });
    await escalate(ada);
    await receivedAtLeast(hook.key, 1);
    const off = await waitFor(async () => {
      const now = await getEndpoint(ada, e.id);
      return now.enabled ? undefined : now;
    }, 'the endpoint disabled');
    expect(off.disabled_reason).toBe('gone');
    const log = await deliveriesUntil(ada, e.id, (l) => l.length >= 1, 'the attempt');
    expect(log[0]).toMatchObject({ status: 'failed', response_status: 410, next_attempt_at: null });
    expect(log[0]?.error).toContain('410');
    await escalate(ada);
    expect(await deliveryJobs(ada.acct, e.id)).toEqual([]);
    expect((await received(hook.key)).length).toBe(1);
    // An admin turns it back on: deliveries resume, and the reason is cleared.
    await script(hook.key, [{ status: 200 }]);
    const on = await json<{ enabled: boolean; disabled_reason: string | null }>(
      await call(`/v1/webhooks/${e.id}`, ada, { method: 'PATCH', body: { enabled: true } }),
    );
    expect(on).toMatchObject({ enabled: true, disabled_reason: null });
    await escalate(ada);
    await receivedAtLeast(hook.key, 2);
  });

  it('an endpoint failing every attempt for 5 days is disabled', async () => {
    const ada = await admin();
    const hook = newHook();
    await script(hook.key, [{ status: 500 }]);
    const e = await register(ada, { url: hook.url, events: ['escalation.created'] });
    await escalate(ada);
    await deliveriesUntil(ada, e.id, (l) => l.length >= 1, 'a first failure');
    expect((await getEndpoint(ada, e.id)).enabled).toBe(true);
    // Age the failure clock the hub keeps (the clock is the one input this test moves).
    await runInDurableObject(hubFor(env, ada.acct), (_h, state) => {
      state.storage.sql.exec(
        'update webhook_endpoints set failing_since = ? where id = ?',
        Date.now() - 5 * 86_400_000 - 1_000,
        e.id,
      );
    });
    const off = await waitFor(
      async () => {
        const now = await getEndpoint(ada, e.id);
        return now.enabled ? undefined : now;
      },
      'disabled after the next failure',
      10_000,
    );
    expect(off.disabled_reason).toBe('failing');
    const log = await deliveriesUntil(
      ada,
      e.id,
      (l) => l.some((d) => d.status === 'failed'),
      'the last attempt',
    );
    // The first attempt after the clock was aged is the last one: it failed and nothing followed
    // (before the retry schedule ran out, which would end at attempt 4).
    const last = Math.max(...log.map((d) => d.attempt));
    expect(log.find((d) => d.status === 'failed')?.attempt).toBe(last);
    expect(last).toBeLessThan(4);
  });

  it('a success restarts the failure clock', async () => {
    const ada = await admin();
    const hook = newHook();
    await script(hook.key, [{ status: 500 }, { status: 200 }]);
    const e = await register(ada, { url: hook.url, events: ['escalation.created'] });
    await escalate(ada);
    await deliveriesUntil(ada, e.id, (l) => l.some((d) => d.status === 'succeeded'), 'a success');
    const since = await runInDurableObject(
      hubFor(env, ada.acct),
      (_h, state) =>
        state.storage.sql
          .exec<{ f: number | null }>('select failing_since as f from webhook_endpoints where id = ?', e.id)
          .one().f,
    );
    expect(since).toBeNull();
  });

  it('sends each endpoint only the events it chose; disabled endpoints get nothing', async () => {
    const ada = await admin();
    const [picked, runs, all, off] = [newHook(), newHook(), newHook(), newHook()];
    await register(ada, { url: picked.url, events: ['escalation.picked_up'] });
    const runsOnly = await register(ada, { url: runs.url, events: ['run.*'] });
    await register(ada, { url: all.url, events: ['*'] });
    const disabled = await register(ada, { url: off.url, events: ['*'] });
    await call(`/v1/webhooks/${disabled.id}`, ada, { method: 'PATCH', body: { enabled: false } });
    const card = await escalate(ada);
    const bob = await colleague(ada);
    expect((await call(`/v1/handoffs/${card.id}/pickup`, bob, { method: 'POST' })).status).toBe(200);
    const toAll = await waitFor(async () => {
      const list = await received(all.key);
      const types = new Set(list.map((r) => bodyOf(r).type));
      return ['escalation.created', 'escalation.assessed', 'escalation.picked_up'].every((t) => types.has(t))
        ? list
        : undefined;
    }, 'every escalation event at the catch-all');
    const pickedUp = await receivedAtLeast(picked.key, 1);
    expect(pickedUp.map((r) => bodyOf(r).type)).toEqual(['escalation.picked_up']);
    // One webhook-id per event, shared by the endpoints it went to.
    const idAtAll = ofType(toAll, 'escalation.picked_up')[0]?.headers['webhook-id'];
    expect(pickedUp[0]?.headers['webhook-id']).toBe(idAtAll);
    for (const e of [runsOnly, disabled]) expect(await deliveryJobs(ada.acct, e.id)).toEqual([]);
    expect(await received(runs.key)).toEqual([]);
    expect(await received(off.key)).toEqual([]);
  });

  it('run events carry the run’s status object: paused, completed, failed', async () => {
    const ada = await admin();
    const hook = newHook();
    const e = await register(ada, { url: hook.url, events: ['run.*'] });
    const { run } = await runGraph(ada, humanGraph, { name: 'Ada' });
    const paused = await receivedAtLeast(hook.key, 1);
    const p = bodyOf<{
      type: string;
      data: { node_id: string; prompt: string; run: { id: string; status: string; paused: unknown } };
    }>(paused[0] as Received);
    expect(p.type).toBe('run.paused');
    expect(p.data).toMatchObject({ node_id: 'ask', prompt: 'Which product, Ada?' });
    expect(p.data.run).toMatchObject({
      id: run.run_id,
      status: 'paused',
      paused: { node_id: 'ask', prompt: 'Which product, Ada?' },
    });
    expect(verify(e.secret as string, paused[0] as Received)).toBeTruthy();
    await call(`/v1/runs/${run.run_id}/resume`, ada, { body: { input: 'vpn' } });
    const done = await receivedAtLeast(hook.key, 2);
    const c = bodyOf<{
      type: string;
      data: { final_state: unknown; run: { status: string; final_state: unknown } };
    }>(done[1] as Received);
    expect(c.type).toBe('run.completed');
    expect(c.data.final_state).toEqual({ name: 'Ada', product: 'vpn', routed: true });
    expect(c.data.run).toMatchObject({
      status: 'completed',
      final_state: { name: 'Ada', product: 'vpn', routed: true },
    });
    // A cancelled run ends with `error`: run.failed, its code and the run as it ended.
    const second = await runGraph(ada, humanGraph, { name: 'Bo' });
    await waitForStatus(ada, second.run.run_id, 'paused');
    await call(`/v1/runs/${second.run.run_id}/cancel`, ada, { method: 'POST' });
    const failed = await waitFor(async () => {
      const f = ofType(await received(hook.key), 'run.failed');
      return f.length ? f : undefined;
    }, 'run.failed');
    const f = bodyOf<{ data: { code: string; run: { id: string; status: string; error: unknown } } }>(
      failed[0] as Received,
    );
    expect(f.data.code).toBe('cancelled');
    expect(f.data.run).toMatchObject({
      id: second.run.run_id,
      status: 'cancelled',
      error: { code: 'cancelled' },
    });
    // The other run events (started, nodes, edges) never leave.
    const types = (await received(hook.key)).map((r) => bodyOf(r).type);
    expect(types.every((t) => t.startsWith('run.'))).toBe(true);
  });

  it('Slack format: text and blocks with severity, title, age, who is asked, and a button to the card', async () => {
    const ada = await admin();
    const hook = newHook();
    await register(ada, { url: hook.url, events: ['escalation.created'], format: 'slack' });
    const card = await escalate(ada, { severity: 'urgent', reason: 'Customer <blocked> & angry' });
    const [got] = await receivedAtLeast(hook.key, 1);
    const msg = JSON.parse((got as Received).body) as {
      text: string;
      blocks: {
        type: string;
        text?: { text: string };
        fields?: { text: string }[];
        elements?: { url: string; text: { text: string } }[];
      }[];
    };
    expect(msg.text).toContain('New escalation (urgent): VPN drops');
    expect(msg.text).toContain('asking everyone');
    expect(msg.blocks.map((b) => b.type)).toEqual(['section', 'section', 'actions']);
    expect(msg.blocks[0]?.text?.text).toContain('*New escalation*: VPN drops');
    expect(msg.blocks[0]?.text?.text).toContain('Customer &lt;blocked&gt; &amp; angry');
    const fields = (msg.blocks[1]?.fields ?? []).map((f) => f.text);
    expect(fields).toEqual([
      '*Severity*\n:red_circle: URGENT',
      '*Status*\nopen',
      expect.stringMatching(/^\*Age\*\n\d+ s$/),
      '*Asking*\neveryone',
    ]);
    expect(msg.blocks[2]?.elements?.[0]).toMatchObject({
      text: { text: 'Open the card' },
      url: `https://switchboard.example/#/handoffs/${card.id}`,
    });
  });

  it('a test ping: queued, delivered whatever the filter, in the log', async () => {
    const ada = await admin();
    const hook = newHook();
    const e = await register(ada, { url: hook.url, events: ['run.completed'] });
    const res = await call(`/v1/webhooks/${e.id}/test`, ada, { method: 'POST' });
    expect(res.status).toBe(202);
    const { event_id } = await json<{ event_id: string; status: string }>(res);
    const [got] = await receivedAtLeast(hook.key, 1);
    expect(got?.headers['webhook-id']).toBe(event_id);
    expect(bodyOf(got as Received)).toMatchObject({ type: 'ping', data: { endpoint_id: e.id } });
    expect(verify(e.secret as string, got as Received)).toBeTruthy();
    const log = await deliveriesUntil(ada, e.id, (l) => l.length === 1, 'the ping in the log');
    expect(log[0]).toMatchObject({ event_id, type: 'ping', status: 'succeeded' });
    // Usage: every attempt counts as a webhook delivery.
    const usage = await usageTotals(ada);
    expect(usage.webhook_deliveries).toBe(1);
  });

  it('follows no redirect, reads at most 4 KiB and keeps 1 KiB, and times out a silent receiver', async () => {
    const ada = await admin();
    const [hook, elsewhere, big, silent] = [newHook(), newHook(), newHook(), newHook()];
    await script(hook.key, [{ status: 307, location: elsewhere.url }]);
    await script(big.key, [{ status: 502, bytes: 64 * 1024 }]);
    await script(silent.key, [{ hang: true }]);
    const redirecting = await register(ada, { url: hook.url, events: ['ping'] });
    const large = await register(ada, { url: big.url, events: ['ping'] });
    const hanging = await register(ada, { url: silent.url, events: ['ping'] });
    for (const e of [redirecting, large, hanging])
      await call(`/v1/webhooks/${e.id}/test`, ada, { method: 'POST' });
    const [r] = await deliveriesUntil(ada, redirecting.id, (l) => l.length >= 1, 'the redirect attempt');
    expect(r).toMatchObject({
      status: 'pending',
      response_status: 307,
      error: 'redirects are not followed (HTTP 307)',
    });
    expect(await received(elsewhere.key)).toEqual([]);
    const [b] = await deliveriesUntil(ada, large.id, (l) => l.length >= 1, 'the large answer');
    expect(b?.response_status).toBe(502);
    expect(b?.response_body).toBe('x'.repeat(1024));
    const [h] = await deliveriesUntil(ada, hanging.id, (l) => l.length >= 1, 'the timed-out attempt', 10_000);
    expect(h).toMatchObject({
      status: 'pending',
      response_status: null,
      error: expect.stringMatching(/^timed out after 1500 ms/),
    });
    // Endpoints deleted while deliveries are pending: nothing more is sent, nothing fails.
    for (const e of [redirecting, large, hanging]) {
      expect((await call(`/v1/webhooks/${e.id}`, ada, { method: 'DELETE' })).status).toBe(204);
    }
    const before = (await received(hook.key)).length;
    // Their next attempts fall due now: each finds its endpoint gone and ends without a request.
    await runInDurableObject(hubFor(env, ada.acct), (_h, state) => {
      state.storage.sql.exec(
        "update jobs set run_at = 0 where id like 'webhook:%' and kind = 'webhook-delivery'",
      );
    });
    await runDurableObjectAlarm(hubFor(env, ada.acct));
    // Deliveries run off the alarm (background jobs): wait until each has ended.
    for (const e of [redirecting, large, hanging])
      await waitFor(
        async () => ((await deliveryJobs(ada.acct, e.id)).length === 0 ? true : undefined),
        'its jobs ended',
      );
    expect((await received(hook.key)).length).toBe(before);
  });

  it('keeps delivering across a hub restart between attempts', async () => {
    const ada = await admin();
    const hook = newHook();
    await script(hook.key, [{ status: 500 }, { status: 200 }]);
    const e = await register(ada, { url: hook.url, events: ['escalation.created'] });
    await escalate(ada);
    await receivedAtLeast(hook.key, 1);
    const hub = hubFor(env, ada.acct);
    await runInDurableObject(hub, (_h, state) => state.abort('simulated restart')).catch(() => undefined);
    const log = await deliveriesUntil(
      ada,
      e.id,
      (l) => l.some((d) => d.status === 'succeeded'),
      'after the restart',
    );
    expect(log.map((d) => d.attempt).sort()).toEqual([1, 2]);
    const got = await received(hook.key);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
  });

  it('a hub that lost its copy of the endpoints reloads it from Postgres, and delivers what arrived meanwhile', async () => {
    const ada = await admin();
    const hook = newHook();
    await register(ada, { url: hook.url, events: ['escalation.created'] });
    const hub = hubFor(env, ada.acct);
    await runInDurableObject(hub, (_h, state) => {
      state.storage.sql.exec('delete from webhook_endpoints');
      state.storage.sql.exec('delete from webhook_meta');
    });
    const card = await escalate(ada);
    const [got] = await receivedAtLeast(hook.key, 1);
    expect(bodyOf<{ data: { card: { id: string } } }>(got as Received).data.card.id).toBe(card.id);
  });

  it('prunes delivery rows past their retention', async () => {
    const ada = await admin();
    const hook = newHook();
    const e = await register(ada, { url: hook.url, events: ['ping'] });
    for (let i = 0; i < 3; i++) await call(`/v1/webhooks/${e.id}/test`, ada, { method: 'POST' });
    await deliveriesUntil(ada, e.id, (l) => l.length === 3, 'three pings logged');
    const hub = hubFor(env, ada.acct);
    // The prune job is due when the oldest row expires; age two rows past the retention and run it now.
    await withDb(async (db) => {
      const rows = await deliveries(ada, e.id);
      const old = rows.slice(0, 2).map((r) => r.id);
      for (const id of old) {
        await db
          .update(webhookDeliveries)
          .set({ createdAt: new Date(Date.now() - 31 * 86_400_000) })
          .where(eq(webhookDeliveries.id, id));
      }
      const pending = await runInDurableObject(hub, (_h, state) => {
        const row = state.storage.sql
          .exec<{ n: number }>("select count(*) as n from jobs where id = 'webhook-prune'")
          .one();
        state.storage.sql.exec("update jobs set run_at = 0 where id = 'webhook-prune'");
        return row.n;
      });
      expect(pending).toBe(1);
      await runDurableObjectAlarm(hub);
      const left = await deliveries(ada, e.id);
      expect(left.map((r) => r.id)).toEqual(rows.slice(2).map((r) => r.id));
      // It comes back when the oldest remaining row expires.
      const next = await runInDurableObject(
        hub,
        (_h, state) =>
          state.storage.sql
            .exec<{ t: number }>("select run_at as t from jobs where id = 'webhook-prune'")
            .one().t,
      );
      expect(next - Date.now()).toBeGreaterThan(29 * 86_400_000);
    });
  });

  it('another account’s events never reach this account’s endpoints', async () => {
    const ada = await admin();
    const hook = newHook();
    const e = await register(ada, { url: hook.url, events: ['*'] });
    const stranger = await makeUser();
    await escalate(stranger);
    // Neither hub holds a delivery for it: the stranger's does not know it, Ada's saw no event.
    expect(await deliveryJobs(stranger.acct, e.id)).toEqual([]);
    expect(await deliveryJobs(ada.acct, e.id)).toEqual([]);
    expect(await received(hook.key)).toEqual([]);
    await expectError(await call('/v1/webhooks', stranger), 403, 'forbidden');
  });
});
