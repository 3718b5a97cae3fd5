import { describe, expect, it } from 'vitest';
import type { EscalationCard } from '../worker/contract/events';
import { DEFAULT_ESCALATION_POLICY, type EscalationPolicy } from '../worker/escalations/policy';
import { armed, eventsOf, fire } from './clock-helpers';
import { escalate } from './escalation-helpers';
import { call, colleague, expectError, json, makeUser } from './helpers';

type PolicyAnswer = {
  version: number;
  policy: EscalationPolicy;
  updated_at: string | null;
  updated_by: { id: string; name: string } | null;
};

const clone = (): EscalationPolicy => structuredClone(DEFAULT_ESCALATION_POLICY);
const secondsBetween = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 1000;

describe('escalation policy', () => {
  it('answers the default until an admin stores one; each card keeps the version it was created under', async () => {
    const admin = await makeUser({ role: 'admin', name: 'Ada' });
    const engineer = await colleague(admin, 'engineer', 'Bob');
    const viewer = await colleague(admin, 'viewer', 'Vic');
    const first = await json<PolicyAnswer>(await call('/v1/escalation-policy', viewer));
    expect(first).toEqual({
      version: 0,
      policy: DEFAULT_ESCALATION_POLICY,
      updated_at: null,
      updated_by: null,
    });
    const before = await escalate(engineer, { severity: 'urgent' });

    const policy = clone();
    policy.warn_at = 0.5;
    policy.severities.urgent = {
      pickup_seconds: 60,
      resolve_seconds: 600,
      levels: [
        { after_seconds: 30, notify: [engineer.sub] },
        { after_seconds: 45, notify: 'admins' },
      ],
      repeat: 0,
    };
    await expectError(await call('/v1/escalation-policy', engineer, { method: 'PUT', body: policy }), 403);
    const put = await call('/v1/escalation-policy', admin, { method: 'PUT', body: policy });
    expect(put.status).toBe(200);
    const stored = await json<PolicyAnswer>(put);
    expect(stored).toMatchObject({ version: 1, policy, updated_by: { id: admin.sub, name: 'Ada' } });
    expect(await json<PolicyAnswer>(await call('/v1/escalation-policy', engineer))).toEqual(stored);
    const again = await json<PolicyAnswer>(
      await call('/v1/escalation-policy', admin, { method: 'PUT', body: policy }),
    );
    expect(again.version).toBe(2);

    const after = await escalate(engineer, { severity: 'urgent' });
    expect(after.policy_version).toBe(2);
    expect(secondsBetween(after.created_at, after.sla.pickup_warn_at)).toBe(30);
    expect(secondsBetween(after.created_at, after.sla.pickup_due_at)).toBe(60);
    expect(secondsBetween(after.created_at, after.sla.resolve_due_at)).toBe(600);
    expect(secondsBetween(after.created_at, after.next_level_at ?? '')).toBe(30);
    // The card made before keeps the default's clocks and levels.
    expect(before.policy_version).toBe(0);
    await armed(engineer, before.id, [
      'pickup_warning',
      'pickup_breach',
      'resolve_warning',
      'resolve_breach',
      'reescalate',
    ]);
    await fire(engineer, before.id, ['reescalate']);
    const [old] = await eventsOf(engineer, before.id, 'escalation.reescalated');
    expect(old?.data).toMatchObject({ level: 1, notify: 'everyone' });
    expect(secondsBetween(before.next_level_at ?? '', old?.data.card.next_level_at ?? '')).toBe(300);
    // The new one follows the new policy: the named engineer first, then admins 45 s later.
    await armed(engineer, after.id, [
      'pickup_warning',
      'pickup_breach',
      'resolve_warning',
      'resolve_breach',
      'reescalate',
    ]);
    await fire(engineer, after.id, ['reescalate']);
    const [level1] = await eventsOf(engineer, after.id, 'escalation.reescalated');
    expect(level1?.data).toMatchObject({ level: 1, notify: [engineer.sub] });
    const asking = await json<{ items: EscalationCard[] }>(await call('/v1/escalations?asking=me', engineer));
    expect(asking.items.map((c) => c.id)).toEqual([after.id]);
    expect(secondsBetween(after.next_level_at ?? '', level1?.data.card.next_level_at ?? '')).toBe(45);
  });

  it('refuses a policy with bad values, naming each bad field, and stores nothing', async () => {
    const admin = await makeUser({ role: 'admin' });
    const outsider = await makeUser();
    const viewer = await colleague(admin, 'viewer');
    for (const u of [outsider, viewer]) await call('/v1/escalations', u);
    const policy = clone() as unknown as Record<string, unknown> & {
      severities: Record<string, Record<string, unknown>>;
    };
    policy.warn_at = 1.5;
    (policy.severities.urgent as Record<string, unknown>).pickup_seconds = 0;
    (policy.severities.high as Record<string, unknown>).resolve_seconds = 600; // below its pickup_seconds (900)
    (policy.severities.normal as Record<string, unknown>).repeat = 2; // with no levels
    (policy.severities.low as Record<string, unknown>).levels = [{ after_seconds: 2.5, notify: 'nobody' }];
    const err = await expectError(
      await call('/v1/escalation-policy', admin, { method: 'PUT', body: policy }),
      400,
      'validation_failed',
    );
    const fields = (err.details as { field: string }[]).map((d) => d.field).sort();
    expect(fields).toEqual(
      [
        'severities.high.resolve_seconds',
        'severities.low.levels.0.after_seconds',
        'severities.low.levels.0.notify',
        'severities.normal.repeat',
        'severities.urgent.pickup_seconds',
        'warn_at',
      ].sort(),
    );
    for (const f of ['warn_at', 'severities.urgent.pickup_seconds', 'severities.high.resolve_seconds']) {
      expect(err.message).toContain(f);
    }
    // Users a level names must be engineers or admins of this account.
    const named = clone();
    named.severities.high.levels = [{ after_seconds: 60, notify: [admin.sub, outsider.sub, viewer.sub] }];
    const who = await expectError(
      await call('/v1/escalation-policy', admin, { method: 'PUT', body: named }),
      400,
      'validation_failed',
    );
    expect(who.details).toEqual([
      { field: 'severities.high.levels.0.notify.1', message: 'must be an engineer or admin of this account' },
      { field: 'severities.high.levels.0.notify.2', message: 'must be an engineer or admin of this account' },
    ]);
    // Missing severities, unknown keys, wrong types, malformed JSON.
    const { severities: _, ...noSeverities } = clone();
    for (const body of [
      noSeverities,
      { ...clone(), extra: true },
      { ...clone(), severities: { ...clone().severities, critical: clone().severities.low } },
      { ...clone(), warn_at: '0.5' },
      [],
    ]) {
      await expectError(
        await call('/v1/escalation-policy', admin, { method: 'PUT', body }),
        400,
        'validation_failed',
      );
    }
    await expectError(
      await call('/v1/escalation-policy', admin, { method: 'PUT', body: '{' }),
      400,
      'malformed_json',
    );
    expect((await json<PolicyAnswer>(await call('/v1/escalation-policy', admin))).version).toBe(0);
  });
});

describe('users', () => {
  type UserPage = { items: { id: string; name: string; role: string }[]; next_cursor: string | null };

  it('lists the account’s users, and no one else', async () => {
    const admin = await makeUser({ role: 'admin', name: 'Zoe' });
    const bob = await colleague(admin, 'engineer', 'Bob');
    await makeUser({ name: 'Elsewhere' }).then((u) => call('/v1/users', u));
    await call('/v1/users', bob);
    const list = await json<UserPage>(await call('/v1/users', admin));
    expect(list.items.map((u) => [u.name, u.role]).sort()).toEqual([
      ['Bob', 'engineer'],
      ['Zoe', 'admin'],
    ]);
    expect(list.next_cursor).toBeNull();
  });

  // Regression: "GET /v1/users returns up to 1,000 rows with no limit/cursor". It takes both now,
  // like every list (DESIGN.md: `limit` at most 200, an opaque `cursor`).
  it('pages with limit and cursor, newest first, and refuses a bad limit or cursor', async () => {
    const admin = await makeUser({ role: 'admin', name: 'Ada' });
    await call('/v1/users', admin);
    for (const name of ['Bea', 'Cal', 'Dee', 'Eve'])
      await call('/v1/users', await colleague(admin, 'engineer', name));
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const query: string = `/v1/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const answer: UserPage = await json<UserPage>(await call(query, admin));
      expect(answer.items.length).toBeLessThanOrEqual(2);
      seen.push(...answer.items.map((u) => u.name));
      cursor = answer.next_cursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(['Eve', 'Dee', 'Cal', 'Bea', 'Ada']);
    await expectError(await call('/v1/users?limit=201', admin), 400, 'validation_failed');
    await expectError(await call('/v1/users?cursor=nope', admin), 400, 'validation_failed');
  });
});
