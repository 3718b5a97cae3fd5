import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { eventsOf, fire, runAlarm, timerJobs } from './clock-helpers';
import { escalate, hubOf, waitFor } from './escalation-helpers';
import { makeUser, type TestUser } from './helpers';
import {
  deliveriesUntil,
  deliveryJobs,
  held,
  newHook,
  received,
  receivedAtLeast,
  register,
  release,
  script,
} from './webhook-helpers';

// Regression: the alarm used to await every due job, webhook deliveries included. A receiver that
// stalls held the alarm (and so every later alarm) for its whole timeout: an SLA timer due in the
// same hub waited for the slowest delivery. Deliveries are now background jobs: leased in the job
// table, started without waiting, settled on their own.
// The receiver holds every delivery until the test releases it; the hub's attempt timeout is
// raised for these tests, so nothing ends a held delivery but the release.

const admin = () => makeUser({ role: 'admin', name: 'Ada Admin' });

/** Gives the account's hub a long attempt timeout (its env is read per attempt). */
const patientHub = (user: TestUser) =>
  runInDurableObject(hubOf(user), (instance) => {
    const host = (instance as unknown as { host: { env: Env } }).host;
    host.env = { ...env, WEBHOOK_TIMEOUT_MS: '60000' } as Env;
  });

const heldIn = async (keys: string[]) => (await Promise.all(keys.map(held))).reduce((a, b) => a + b, 0);

/** Waits until the receiver holds exactly `n` deliveries to these keys. */
const holding = (keys: string[], n: number) =>
  waitFor(async () => ((await heldIn(keys)) === n ? n : undefined), `${n} held deliveries`, 10_000);

/** A patient hub's admin and an endpoint whose receiver holds every delivery until released. */
async function heldEndpoint() {
  const ada = await admin();
  await patientHub(ada);
  const hook = newHook();
  await script(hook.key, [{ hold: true }]);
  const endpoint = await register(ada, { url: hook.url, events: ['escalation.created'] });
  return { ada, hook, endpoint };
}

/** Runs out the lease of the account's delivery job (makes it due now) without waiting for it. */
async function endLease(user: TestUser) {
  const [job] = await deliveryJobs(user.acct);
  if (!job) throw new Error('the delivery job is gone');
  await runInDurableObject(hubOf(user), (_h, state) =>
    state.storage.sql.exec('update jobs set run_at = 0 where id = ?', job.id),
  );
}

/** Waits until the hub holds no delivery job: with none left, nothing more is ever sent. */
const noDeliveryJob = (user: TestUser) =>
  waitFor(async () => ((await deliveryJobs(user.acct)).length === 0 ? true : undefined), 'no delivery job');

describe('background jobs in the hub', () => {
  it('deliveries held by a stalled receiver do not hold up an SLA timer due in the same hub', async () => {
    const ada = await admin();
    await patientHub(ada);
    const hooks = [newHook(), newHook(), newHook()];
    const keys = hooks.map((h) => h.key);
    for (const h of hooks) await script(h.key, [{ hold: true }]);
    const endpoints = [];
    for (const h of hooks)
      endpoints.push(await register(ada, { url: h.url, events: ['escalation.created'] }));
    const card = await escalate(ada, { severity: 'high' });
    await holding(keys, 3);
    await waitFor(async () => {
      const timers = await timerJobs(ada, card.id);
      return timers.some((t) => t.id.endsWith(':pickup_warning')) ? true : undefined;
    }, 'the pickup warning timer');

    // The timer falls due and the alarm runs: it ends with the deliveries still out.
    await fire(ada, card.id, ['pickup_warning']);
    expect(await eventsOf(ada, card.id, 'escalation.sla_warning')).toHaveLength(1);
    expect(await heldIn(keys)).toBe(3);
    // Their rows are leased: moved ahead, so a hub that dies now sends them again later.
    const leased = await deliveryJobs(ada.acct);
    expect(leased).toHaveLength(3);
    expect(leased.filter((j) => j.run_at <= Date.now())).toEqual([]);

    // Released: each endpoint's delivery is recorded once, and nothing is sent again.
    for (const key of keys) await release(key);
    for (const e of endpoints) {
      const log = await deliveriesUntil(ada, e.id, (l) => l.length >= 1, 'the released delivery');
      expect(log.map((d) => [d.attempt, d.status])).toEqual([[1, 'succeeded']]);
    }
    await noDeliveryJob(ada);
    for (const key of keys) expect(await received(key)).toHaveLength(1);
  });

  it('a delivery whose hub died before it settled runs again once its lease runs out', async () => {
    const { ada, hook, endpoint: e } = await heldEndpoint();
    await escalate(ada);
    await holding([hook.key], 1);
    await runInDurableObject(hubOf(ada), (_h, state) => state.abort('simulated restart')).catch(
      () => undefined,
    );
    // The restarted hub knows nothing of the attempt; its row waits for the lease to run out.
    await patientHub(ada);
    // (A stub that reached the dead instance stays broken: each call takes a new one.)
    await endLease(ada);
    await runAlarm(ada);
    const got = await receivedAtLeast(hook.key, 2);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
    await release(hook.key);
    const log = await deliveriesUntil(ada, e.id, (l) => l.length >= 1, 'the delivery after the restart');
    expect(log.map((d) => [d.attempt, d.status])).toEqual([[1, 'succeeded']]);
    await noDeliveryJob(ada);
  });

  it('a delivery still running here when its lease runs out gets a longer lease, not a second run', async () => {
    const { ada, hook, endpoint: e } = await heldEndpoint();
    await escalate(ada);
    await holding([hook.key], 1);
    await endLease(ada);
    await runAlarm(ada);
    const [extended] = await deliveryJobs(ada.acct);
    expect(extended?.run_at).toBeGreaterThan(0);
    expect(await received(hook.key)).toHaveLength(1);
    await release(hook.key);
    const log = await deliveriesUntil(ada, e.id, (l) => l.length >= 1, 'the delivery');
    expect(log.map((d) => [d.attempt, d.status])).toEqual([[1, 'succeeded']]);
    await noDeliveryJob(ada);
    expect(await received(hook.key)).toHaveLength(1);
  });

  it('an endpoint with every slot taken keeps its other deliveries waiting, not due, until a slot frees', async () => {
    const { ada, hook, endpoint: e } = await heldEndpoint();
    for (let i = 0; i < 5; i++) await escalate(ada);
    // Three go out (the per-endpoint cap); the other two wait ahead, so they wake no alarm.
    await holding([hook.key], 3);
    await waitFor(async () => {
      const jobs = await deliveryJobs(ada.acct);
      return jobs.length === 5 && jobs.every((j) => j.run_at > Date.now()) ? jobs : undefined;
    }, 'five delivery jobs, none due');
    expect(await received(hook.key)).toHaveLength(3);
    await release(hook.key);
    const log = await deliveriesUntil(ada, e.id, (l) => l.length >= 5, 'five deliveries');
    expect(log.map((d) => [d.attempt, d.status])).toEqual(Array(5).fill([1, 'succeeded']));
    expect(new Set((await received(hook.key)).map((r) => r.headers['webhook-id'])).size).toBe(5);
    expect(await received(hook.key)).toHaveLength(5);
  });
});
