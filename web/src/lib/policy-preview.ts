import { SEVERITIES, type Severity } from '../../../worker/contract/statuses';
import type { Schema } from './api';
import { formatDuration } from './format';
import { listNames } from './sla';

// The escalation policy in plain words, as an admin checks it before saving:
// "urgent: ask everyone after 2 min, admins after 5 min, once more".

export type Policy = Schema<'EscalationPolicy'>;
type Level = Policy['severities'][Severity]['levels'][number];

const times = (n: number) => (n === 1 ? 'once more' : n === 2 ? 'twice more' : `${n} more times`);

function whom(notify: Level['notify'], nameOf: (id: string) => string): string {
  if (notify === 'everyone') return 'everyone';
  if (notify === 'admins') return 'admins';
  return listNames(notify.map(nameOf));
}

/** One severity's re-escalation: "ask everyone after 2 min, admins after 5 min, once more". */
export function describeLevels(
  s: Pick<Policy['severities'][Severity], 'levels' | 'repeat'>,
  nameOf: (id: string) => string = (id) => id,
): string {
  if (s.levels.length === 0) return 'no re-escalation';
  const steps = s.levels.map((l) => `${whom(l.notify, nameOf)} after ${formatDuration(l.after_seconds)}`);
  return `ask ${steps.join(', ')}${s.repeat > 0 ? `, ${times(s.repeat)}` : ''}`;
}

/** Every severity in one line each, clocks first: what the policy does, in words. */
export function describePolicy(
  policy: Policy,
  nameOf?: (id: string) => string,
): { severity: Severity; text: string }[] {
  const warn = Math.round(policy.warn_at * 100);
  return [...SEVERITIES].reverse().map((severity) => {
    const s = policy.severities[severity];
    return {
      severity,
      text: `${severity}: pick up within ${formatDuration(s.pickup_seconds)}, resolve within ${formatDuration(
        s.resolve_seconds,
      )} (warn at ${warn}%); ${describeLevels(s, nameOf)}`,
    };
  });
}
