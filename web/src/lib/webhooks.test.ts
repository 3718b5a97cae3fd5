import { describe, expect, it } from 'vitest';
import {
  durationText,
  endpointState,
  eventLabel,
  isSelected,
  nextAttemptText,
  originOf,
  toggleSelector,
} from './webhooks';

describe('the webhook page’s logic', () => {
  it('a family replaces its single types, and unticking one of a chosen family keeps the rest', () => {
    expect(toggleSelector(['escalation.created', 'run.failed'], 'escalation.*', true)).toEqual([
      'run.failed',
      'escalation.*',
    ]);
    const less = toggleSelector(['escalation.*'], 'escalation.assessed', false);
    expect(less).not.toContain('escalation.*');
    expect(less).not.toContain('escalation.assessed');
    expect(less).toContain('escalation.created');
    expect(toggleSelector(['run.paused'], 'run.paused', false)).toEqual([]);
    expect(toggleSelector([], 'ping', true)).toEqual(['ping']);
    expect(isSelected(['run.*'], 'run.completed')).toBe(true);
    expect(isSelected(['run.paused'], 'run.completed')).toBe(false);
  });

  it('says each state in words', () => {
    expect(endpointState({ enabled: true, disabled_reason: null }).text).toBe('Enabled');
    expect(endpointState({ enabled: false, disabled_reason: 'gone' }).text).toContain('410 Gone');
    expect(endpointState({ enabled: false, disabled_reason: 'failing' }).text).toContain('5 days');
    expect(endpointState({ enabled: false, disabled_reason: null }).text).toBe('Disabled by an admin');
    expect(eventLabel('escalation.picked_up')).toBe('picked up');
  });

  it('times: next attempt, duration, origin', () => {
    const now = Date.parse('2026-01-01T00:00:00.000Z');
    expect(nextAttemptText({ next_attempt_at: '2026-01-01T00:00:04.200Z' }, now)).toBe('in 5 s');
    expect(nextAttemptText({ next_attempt_at: '2025-12-31T23:59:59.000Z' }, now)).toBe('due now');
    expect(nextAttemptText({ next_attempt_at: null }, now)).toBe('—');
    expect(durationText(12)).toBe('12 ms');
    expect(durationText(null)).toBe('—');
    expect(originOf('https://hooks.slack.com/services/T/B/X')).toBe('hooks.slack.com');
  });
});

describe('webhook routes', () => {
  it('parses the list and one endpoint', async () => {
    const { parseRoute, paths } = await import('./router');
    expect(parseRoute(paths.webhooks())).toEqual({ name: 'webhooks' });
    expect(parseRoute(paths.webhook('abc'))).toEqual({ name: 'webhook', id: 'abc' });
    expect(parseRoute('#/webhooks/abc/more').name).toBe('not-found');
  });
});
