import { describe, expect, it } from 'vitest';
import { DEFAULT_ESCALATION_POLICY } from '../../../worker/escalations/policy';
import { formIssues, fromForm, toForm } from './policy-form';

describe('the policy form', () => {
  it('shows each severity’s windows in their largest whole unit, and reads back the same policy', () => {
    const form = toForm(DEFAULT_ESCALATION_POLICY);
    expect(form.warnPercent).toBe('75');
    expect(form.severities.urgent.pickup).toEqual({ value: '5', unit: 'min' });
    expect(form.severities.low.resolve).toEqual({ value: '3', unit: 'd' });
    expect(form.severities.urgent.levels[1]).toEqual({
      after: { value: '5', unit: 'min' },
      notify: 'admins',
      users: [],
    });
    expect(fromForm(form)).toEqual(DEFAULT_ESCALATION_POLICY);
  });

  it('keeps the people a level asks, and names the fields that are not numbers', () => {
    const policy = structuredClone(DEFAULT_ESCALATION_POLICY);
    policy.severities.high.levels = [{ after_seconds: 90, notify: ['u1', 'u2'] }];
    const form = toForm(policy);
    expect(form.severities.high.levels[0]).toMatchObject({ notify: 'users', users: ['u1', 'u2'] });
    expect(fromForm(form)).toEqual(policy);
    form.severities.normal.repeat = '';
    expect(formIssues(form)).toEqual([{ field: 'severities.normal.repeat', message: 'enter a number' }]);
  });
});
