import { describe, expect, it } from 'vitest';
import type { EscalationCard } from '../contract/events';
import { changeOf } from './clock-store';
import { timersOf } from './clock-timers';
import { DEFAULT_ESCALATION_POLICY, nextLevel } from './policy';

const card = (over: Omit<Partial<EscalationCard>, 'sla'> & { sla?: Partial<EscalationCard['sla']> } = {}) =>
  ({
    id: 'h1',
    status: 'open',
    next_level_at: '2026-01-01T00:02:00.000Z',
    ...over,
    sla: {
      pickup_warn_at: '2026-01-01T00:03:45.000Z',
      pickup_due_at: '2026-01-01T00:05:00.000Z',
      resolve_warn_at: '2026-01-01T03:00:00.000Z',
      resolve_due_at: '2026-01-01T04:00:00.000Z',
      pickup: 'ok',
      resolve: 'ok',
      ...over.sla,
    },
  }) as EscalationCard;

describe('the timers a card wants', () => {
  it('arms every clock and the next level of a new card', () => {
    const { arm, drop } = timersOf(card());
    expect(drop).toEqual([]);
    expect(arm.map((t) => [t.id, new Date(t.runAt).toISOString()])).toEqual([
      ['timer:h1:pickup_warning', '2026-01-01T00:03:45.000Z'],
      ['timer:h1:pickup_breach', '2026-01-01T00:05:00.000Z'],
      ['timer:h1:resolve_warning', '2026-01-01T03:00:00.000Z'],
      ['timer:h1:resolve_breach', '2026-01-01T04:00:00.000Z'],
      ['timer:h1:reescalate', '2026-01-01T00:02:00.000Z'],
    ]);
  });

  it('drops what a warned, picked-up or closed card no longer needs', () => {
    expect(timersOf(card({ sla: { pickup: 'warning' } })).drop).toEqual(['timer:h1:pickup_warning']);
    const picked = timersOf(card({ status: 'picked_up', next_level_at: null, sla: { pickup: 'met' } }));
    expect(picked.arm.map((t) => t.payload.timer)).toEqual(['resolve_warning', 'resolve_breach']);
    const closed = timersOf(
      card({ status: 'resolved', next_level_at: null, sla: { pickup: 'met', resolve: 'breached' } }),
    );
    expect(closed.arm).toEqual([]);
    expect(closed.drop).toHaveLength(5);
  });
});

describe('re-escalation levels', () => {
  const urgent = DEFAULT_ESCALATION_POLICY.severities.urgent;
  it('walks the levels, repeats them, then ends', () => {
    const walk = [0, 1, 2, 3, 4].map((done) => nextLevel(urgent, done));
    expect(walk).toEqual([
      { level: 1, notify: 'everyone', followedAfterSeconds: 300 },
      { level: 2, notify: 'admins', followedAfterSeconds: 120 },
      { level: 1, notify: 'everyone', followedAfterSeconds: 300 },
      { level: 2, notify: 'admins', followedAfterSeconds: null },
      null,
    ]);
    expect(nextLevel({ levels: [], repeat: 0 }, 0)).toBeNull();
  });
});

describe('what a due timer changes', () => {
  const row = {
    id: 'h1',
    status: 'open' as const,
    pickup_sla: 'ok' as const,
    resolve_sla: 'ok' as const,
    level: 0,
    notify: 'everyone' as const,
    reescalations: 0,
    next_level_at: '2026-01-01T00:02:00.000Z',
    severity_policy: DEFAULT_ESCALATION_POLICY.severities.urgent,
  };
  const due = '2026-01-01T00:02:00.000Z';

  it('moves a running clock on, and leaves a stopped one alone', () => {
    expect(changeOf(row, { handoffId: 'h1', timer: 'pickup_warning', due })).toMatchObject({
      pickup: 'warning',
      what: { kind: 'warning', clock: 'pickup' },
    });
    expect(
      changeOf({ ...row, pickup_sla: 'warning' }, { handoffId: 'h1', timer: 'pickup_breach', due }),
    ).toMatchObject({
      pickup: 'breached',
    });
    // A breach that overtook its warning: the warning is not sent.
    expect(
      changeOf({ ...row, pickup_sla: 'breached' }, { handoffId: 'h1', timer: 'pickup_warning', due }),
    ).toBeNull();
    expect(
      changeOf({ ...row, resolve_sla: 'met' }, { handoffId: 'h1', timer: 'resolve_breach', due }),
    ).toBeNull();
  });

  it('re-escalates only the card that still expects that level then', () => {
    expect(changeOf(row, { handoffId: 'h1', timer: 'reescalate', due })).toMatchObject({
      level: 1,
      notify: 'everyone',
      reescalations: 1,
      nextLevelAt: '2026-01-01T00:07:00.000Z',
    });
    expect(
      changeOf({ ...row, status: 'picked_up' }, { handoffId: 'h1', timer: 'reescalate', due }),
    ).toBeNull();
    // Released since: the card expects its first level at another time.
    expect(
      changeOf(
        { ...row, next_level_at: '2026-01-01T01:00:00.000Z' },
        { handoffId: 'h1', timer: 'reescalate', due },
      ),
    ).toBeNull();
  });
});
