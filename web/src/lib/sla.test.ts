import { describe, expect, it } from 'vitest';
import { DEFAULT_ESCALATION_POLICY } from '../../../worker/escalations/policy';
import { formatCountdown, formatDuration } from './format';
import { describeLevels, describePolicy } from './policy-preview';
import { cardClocks, clockView, isAskingMe, listNames } from './sla';
import { card } from './test-cards';
import { type TimelineItem, timelineText } from './timeline-text';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const urgent = card('h1', 1, at(0), { severity: 'urgent' });

describe('clocks in words', () => {
  const warned = { ...urgent, sla: { ...urgent.sla, pickup: 'warning' as const } };
  const picked = {
    ...urgent,
    status: 'picked_up' as const,
    sla: { ...urgent.sla, pickup: 'met' as const },
  };
  it.each([
    ['counts down', urgent, 'pickup', 60_000, 'ok', 'Pick-up due in 4:00'],
    ['warns', urgent, 'pickup', 240_000, 'warning', 'Pick-up SLA at risk: 1:00 left'],
    ['says it is overdue', urgent, 'pickup', 301_000, 'breached', 'Pick-up SLA breached 0:01 ago'],
    ['warns when the server does', warned, 'pickup', 1_000, 'warning', 'Pick-up SLA at risk: 4:59 left'],
    ['says a stopped clock was in time', picked, 'pickup', 400_000, 'met', 'Picked up in time'],
    ['counts down the clock still running', picked, 'resolve', 3_600_000, 'ok', 'Resolve due in 3:00:00'],
  ] as const)('%s', (_, card, clock, afterMs, look, text) => {
    expect(clockView(card, clock, T0 + afterMs)).toEqual({ clock, look, text });
  });

  it('shows how a closed card’s clock ended, without a countdown', () => {
    const closed = {
      ...picked,
      status: 'resolved' as const,
      sla: { ...picked.sla, resolve: 'breached' as const },
    };
    expect(cardClocks(closed, T0)).toEqual([
      { clock: 'resolve', look: 'breached', text: 'Resolve SLA breached' },
    ]);
  });

  it('formats countdowns and durations', () => {
    expect([0, 999, 61_000, 3_600_000, 3_723_000, 50 * 3_600_000].map(formatCountdown)).toEqual([
      '0:00',
      '0:01',
      '1:01',
      '1:00:00',
      '1:02:03',
      '2 d 2 h',
    ]);
    expect([45, 120, 90, 14_400, 5_400, 86_400, 259_200].map(formatDuration)).toEqual([
      '45 s',
      '2 min',
      '1 min 30 s',
      '4 h',
      '1 h 30 min',
      '1 day',
      '3 days',
    ]);
  });
});

describe('asking you', () => {
  const me = { userId: 'me', role: 'engineer' as const };
  it('asks the users it names, or admins when it says admins, only while it waits', () => {
    expect(isAskingMe({ ...urgent, notify: ['x', 'me'] }, me)).toBe(true);
    expect(isAskingMe({ ...urgent, notify: 'everyone' }, me)).toBe(false);
    expect(isAskingMe({ ...urgent, notify: 'admins' }, me)).toBe(false);
    expect(isAskingMe({ ...urgent, notify: 'admins' }, { userId: 'a', role: 'admin' })).toBe(true);
    expect(isAskingMe({ ...urgent, notify: ['me'], status: 'picked_up' }, me)).toBe(false);
    expect(listNames(['Bob', 'Carol', 'Dan'])).toBe('Bob, Carol and Dan');
  });
});

describe('the policy in plain words', () => {
  it('reads like a person would say it', () => {
    expect(describeLevels(DEFAULT_ESCALATION_POLICY.severities.urgent)).toBe(
      'ask everyone after 2 min, admins after 5 min, once more',
    );
    expect(describeLevels({ levels: [{ after_seconds: 90, notify: ['b'] }], repeat: 2 }, () => 'Bob')).toBe(
      'ask Bob after 1 min 30 s, twice more',
    );
    expect(describePolicy(DEFAULT_ESCALATION_POLICY).map((l) => l.text)).toEqual([
      'urgent: pick up within 5 min, resolve within 4 h (warn at 75%); ask everyone after 2 min, admins after 5 min, once more',
      'high: pick up within 15 min, resolve within 8 h (warn at 75%); ask admins after 15 min',
      'normal: pick up within 1 h, resolve within 1 day (warn at 75%); no re-escalation',
      'low: pick up within 4 h, resolve within 3 days (warn at 75%); no re-escalation',
    ]);
  });
});

describe('the timeline in words', () => {
  const item = (
    type: TimelineItem['type'],
    details: Record<string, unknown>,
    actor: string | null = 'Bob',
  ) => ({
    at: '2026-01-01T00:00:00.000Z',
    type,
    version: 1,
    actor: actor ? { user_id: 'u', name: actor } : null,
    details,
  });
  const names = (id: string) => ({ c: 'Carol' })[id] ?? 'someone';
  it('says each change as a sentence', () => {
    expect(
      timelineText(item('created', { intent: 'transfer', to_user_id: 'c', severity: 'high' }), names),
    ).toBe('Bob transferred it to Carol (high)');
    expect(timelineText(item('reescalated', { level: 2, notify: 'admins' }, null), names)).toBe(
      'Re-escalated to level 2: asking admins',
    );
    expect(timelineText(item('released', { reason: 'off shift' }), names)).toBe(
      'Bob released it back to the queue: “off shift”',
    );
    expect(timelineText(item('sla_breached', { clock: 'resolve' }, null), names)).toBe(
      'Resolve SLA breached',
    );
  });
});
