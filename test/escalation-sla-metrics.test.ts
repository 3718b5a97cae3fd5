import { describe, expect, it } from 'vitest';
import type { SlaState } from '../worker/contract/statuses';
import { handoffs, handoffTimeline } from '../worker/db/schema';
import type { EscalationMetrics } from '../worker/escalations/escalation-metrics';
import { call, createSession, expectError, json, makeUser, type TestUser, withDb } from './helpers';

type Seed = {
  at: string;
  severity: 'low' | 'normal' | 'high' | 'urgent';
  pickup: SlaState;
  resolve: SlaState;
  /** Seconds from creation to resolve, for a resolved one. */
  resolvedAfter?: number;
  reescalations?: number;
};

async function seed(admin: TestUser, rows: Seed[]) {
  const session = await createSession(admin);
  await withDb(async (db) => {
    for (const r of rows) {
      const created = new Date(r.at);
      const [h] = await db
        .insert(handoffs)
        .values({
          accountId: admin.acct,
          sessionId: session.id,
          createdBy: admin.sub,
          intent: 'escalate',
          reason: 'seeded',
          severity: r.severity,
          status: r.resolvedAfter === undefined ? 'open' : 'resolved',
          createdAt: created,
          closedAt:
            r.resolvedAfter === undefined ? null : new Date(created.getTime() + r.resolvedAfter * 1000),
          pickupSla: r.pickup,
          resolveSla: r.resolve,
          version: 1 + (r.reescalations ?? 0),
        })
        .returning({ id: handoffs.id });
      for (let i = 1; i <= (r.reescalations ?? 0); i++) {
        await db.insert(handoffTimeline).values({
          handoffId: h?.id as string,
          accountId: admin.acct,
          version: 1 + i,
          type: 'reescalated',
          details: { level: i },
        });
      }
    }
  });
}

describe('escalation metrics: SLA attainment, breaches, re-escalations, time to resolve', () => {
  it('per severity and per day, with days in the asked time zone', async () => {
    const admin = await makeUser({ role: 'admin' });
    await seed(admin, [
      // 23:30 UTC on 1 March is already 2 March in Paris.
      { at: '2026-03-01T23:30:00Z', severity: 'urgent', pickup: 'met', resolve: 'met', resolvedAfter: 600 },
      {
        at: '2026-03-02T08:00:00Z',
        severity: 'urgent',
        pickup: 'breached',
        resolve: 'met',
        resolvedAfter: 1_800,
        reescalations: 2,
      },
      {
        at: '2026-03-02T09:00:00Z',
        severity: 'urgent',
        pickup: 'met',
        resolve: 'breached',
        resolvedAfter: 20_000,
      },
      { at: '2026-03-02T10:00:00Z', severity: 'low', pickup: 'ok', resolve: 'ok', reescalations: 1 },
      { at: '2026-03-03T10:00:00Z', severity: 'high', pickup: 'met', resolve: 'met', resolvedAfter: 60 },
    ]);
    const paris = await json<EscalationMetrics>(
      await call('/v1/escalations/metrics?from=2026-03-01&to=2026-03-04&tz=Europe/Paris', admin),
    );
    // Date-only bounds are midnights in the zone.
    expect(paris).toMatchObject({
      tz: 'Europe/Paris',
      from: '2026-02-28T23:00:00.000Z',
      to: '2026-03-03T23:00:00.000Z',
    });
    expect(paris.per_day.map((d) => [d.date, d.created])).toEqual([
      ['2026-03-02', 4],
      ['2026-03-03', 1],
    ]);
    expect(paris.sla.by_severity.urgent).toEqual({
      handoffs: 3,
      pickup_attainment: 0.6667,
      resolve_attainment: 0.6667,
      pickup_breaches: 1,
      resolve_breaches: 1,
      reescalations: 2,
      time_to_resolve_seconds: { count: 3, median: 1_800, p90: 16_360 },
    });
    // A running clock (ok) counts neither way.
    expect(paris.sla.by_severity.low).toMatchObject({
      handoffs: 1,
      pickup_attainment: null,
      resolve_attainment: null,
      reescalations: 1,
      time_to_resolve_seconds: { count: 0, median: null, p90: null },
    });
    expect(paris.sla.by_severity.normal.handoffs).toBe(0);
    expect(paris.sla.overall).toMatchObject({
      handoffs: 5,
      pickup_breaches: 1,
      resolve_breaches: 1,
      reescalations: 3,
    });
    expect(paris.time_to_resolve_seconds).toEqual({ count: 4, median: 1_200, p90: 14_540 });
    const [day2, day3] = paris.sla.per_day;
    expect(day2).toMatchObject({
      date: '2026-03-02',
      handoffs: 4,
      reescalations: 3,
      pickup_attainment: 0.6667,
    });
    expect(day2?.by_severity.urgent.handoffs).toBe(3);
    expect(day2?.by_severity.high.handoffs).toBe(0);
    expect(day3).toMatchObject({
      date: '2026-03-03',
      handoffs: 1,
      pickup_attainment: 1,
      resolve_attainment: 1,
    });
    // In UTC the first one falls on 1 March.
    const utc = await json<EscalationMetrics>(
      await call('/v1/escalations/metrics?from=2026-03-01&to=2026-03-04', admin),
    );
    expect(utc.tz).toBe('UTC');
    expect(utc.per_day.map((d) => [d.date, d.created])).toEqual([
      ['2026-03-01', 1],
      ['2026-03-02', 3],
      ['2026-03-03', 1],
    ]);
  });

  it('refuses an unknown time zone, naming it', async () => {
    const admin = await makeUser({ role: 'admin' });
    for (const tz of ['Mars/Olympus', 'Europe/Paris;drop', '']) {
      const err = await expectError(
        await call(`/v1/escalations/metrics?tz=${encodeURIComponent(tz)}`, admin),
        400,
        'validation_failed',
      );
      expect(err.details).toEqual([
        { field: 'tz', message: 'must be an IANA time zone such as Europe/Paris' },
      ]);
    }
  });
});
