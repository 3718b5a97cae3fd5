import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { usageDaily } from '../worker/db/schema';
import { JobQueue } from '../worker/hub/job-queue';
import { USAGE_FLUSH_JOB, UsageMeter, utcDay } from '../worker/hub/usage-meter';
import { escalate, hubOf, openStream, waitFor } from './escalation-helpers';
import {
  call,
  colleague,
  createSession,
  expectError,
  json,
  makeUser,
  type TestUser,
  type UsageTotals,
  withDb,
} from './helpers';

interface UsageDay extends UsageTotals {
  day: string;
}
interface Usage {
  subscribers_now: number;
  per_day: UsageDay[];
  hub_storage_bytes: number;
}

const usageOf = async (admin: TestUser, query = '') => {
  const res = await call(`/v1/usage${query}`, admin);
  if (res.status !== 200) throw new Error(`usage answered ${res.status}: ${await res.text()}`);
  return json<Usage>(res);
};

const today = () => utcDay(Date.now());

function storedRows(accountId: string) {
  return withDb((db) => db.select().from(usageDaily).where(eq(usageDaily.accountId, accountId)));
}

const flushJob = (user: TestUser) =>
  runInDurableObject(hubOf(user), (_hub, state) => new JobQueue(state.storage.sql).get(USAGE_FLUSH_JOB));

describe('usage', () => {
  it('answers what the account used today, with subscribers now and the hub’s storage', async () => {
    const admin = await makeUser({ role: 'admin' });
    const alice = await colleague(admin);
    const reader = await openStream(alice);
    const session = await createSession(alice);
    for (let i = 0; i < 3; i++) await escalate(alice, { sessionId: session.id, reason: `u${i}` });
    const usage = await usageOf(admin);
    expect(usage.subscribers_now).toBe(1);
    expect(usage.hub_storage_bytes).toBeGreaterThan(0);
    expect(usage.per_day).toHaveLength(30);
    const day = usage.per_day.at(-1) as UsageDay;
    expect(day.day).toBe(today());
    // Three created events (the assessments may have been published too), each sent to the one subscriber.
    expect(day.events_published).toBeGreaterThanOrEqual(3);
    expect(day.deliveries).toBeGreaterThanOrEqual(3);
    expect(day.hub_wakeups).toBeGreaterThanOrEqual(1);
    expect(day).toMatchObject({ runs_started: 0, nodes_executed: 0, webhook_deliveries: 0 });
    expect(usage.per_day.slice(0, -1).every((d) => d.events_published === 0)).toBe(true);
    await reader.close();
  });

  it('writes no roll-up row per event, and one flush adds the counts to Postgres', async () => {
    const admin = await makeUser({ role: 'admin' });
    const session = await createSession(admin);
    for (let i = 0; i < 4; i++) await escalate(admin, { sessionId: session.id, reason: `f${i}` });
    // Counts reach one job row a moment later; Postgres has nothing yet.
    const job = await waitFor(flushJob.bind(null, admin), 'the usage flush job');
    expect(job.runAt).toBeGreaterThan(Date.now() + 30_000);
    expect(await storedRows(admin.acct)).toEqual([]);
    const before = (await usageOf(admin)).per_day.at(-1) as UsageDay;

    // The minute has passed (moved, not waited for): the alarm flushes.
    await runInDurableObject(hubOf(admin), (_hub, state) => {
      state.storage.sql.exec('update jobs set run_at = ? where id = ?', Date.now(), USAGE_FLUSH_JOB);
    });
    await runDurableObjectAlarm(hubOf(admin));
    const rows = await storedRows(admin.acct);
    expect(rows.map((r) => r.day)).toEqual([today()]);
    expect(rows[0]?.eventsPublished).toBeGreaterThanOrEqual(4);
    // Reported once, whether still in the hub or already in Postgres.
    const after = (await usageOf(admin)).per_day.at(-1) as UsageDay;
    expect(after.events_published).toBe(before.events_published);
  });

  it('does not schedule a flush within the minute for wake-ups alone', async () => {
    const alice = await makeUser();
    const reader = await openStream(alice);
    const job = await waitFor(flushJob.bind(null, alice), 'the usage flush job');
    // A subscriber reconnecting to an idle account must not wake the database a minute later.
    expect(job.runAt).toBeGreaterThan(Date.now() + 60 * 60_000);
    await reader.close();
  });

  it('keeps the counts when the flush cannot reach Postgres, and flushes them later', async () => {
    const alice = await makeUser();
    await runInDurableObject(hubOf(alice), async (_hub, state) => {
      const jobs = new JobQueue(state.storage.sql);
      jobs.complete(USAGE_FLUSH_JOB);
      let fail = true;
      const written: unknown[] = [];
      const meter = new UsageMeter(jobs, {
        accountId: alice.acct,
        sink: async (_account, days) => {
          if (fail) throw new Error('database unavailable');
          written.push(days);
        },
        armAlarm: () => {},
        waitUntil: () => {},
      });
      meter.count('events_published', 5);
      await meter.flush();
      expect(written).toEqual([]);
      meter.count('events_published', 2);
      expect(meter.pending()[today()]?.events_published).toBe(7);
      fail = false;
      await meter.flush();
      expect(written).toEqual([{ [today()]: { events_published: 7 } }]);
      expect(jobs.get(USAGE_FLUSH_JOB)).toBeUndefined();
    });
  });

  it('is for admins, and rejects bad ranges', async () => {
    const alice = await makeUser();
    await expectError(await call('/v1/usage', alice), 403);
    const admin = await colleague(alice, 'admin');
    await expectError(await call('/v1/usage?from=2026-02-01&to=2026-01-01', admin), 400, 'validation_failed');
    await expectError(await call('/v1/usage?from=2024-01-01&to=2026-01-01', admin), 400, 'validation_failed');
    await expectError(await call('/v1/usage?from=yesterday', admin), 400, 'validation_failed');
    const range = await usageOf(admin, '?from=2026-01-30&to=2026-02-02');
    expect(range.per_day.map((d) => d.day)).toEqual(['2026-01-30', '2026-01-31', '2026-02-01', '2026-02-02']);
  });
});
