import type { Notify } from '../contract/events';
import { SEVERITIES, type Severity } from '../contract/statuses';

// An account's escalation policy (DESIGN.md "When nobody picks up"): per severity, the pick-up
// and resolve windows, and the levels of re-escalation while nobody picks the card up.

export interface EscalationLevel {
  /** Seconds after the previous level's due time (the first: after creation or release). */
  after_seconds: number;
  notify: Notify;
}

export interface SeverityPolicy {
  pickup_seconds: number;
  resolve_seconds: number;
  levels: EscalationLevel[];
  /** How many more times the whole sequence of levels runs after the first. */
  repeat: number;
}

export interface EscalationPolicy {
  /** The share of a window after which the clock warns (0 < warn_at < 1). */
  warn_at: number;
  severities: Record<Severity, SeverityPolicy>;
}

/** What applies while an account has stored no policy: version 0. */
export const DEFAULT_ESCALATION_POLICY: EscalationPolicy = {
  warn_at: 0.75,
  severities: {
    urgent: {
      pickup_seconds: 300,
      resolve_seconds: 14_400,
      levels: [
        { after_seconds: 120, notify: 'everyone' },
        { after_seconds: 300, notify: 'admins' },
      ],
      repeat: 1,
    },
    high: {
      pickup_seconds: 900,
      resolve_seconds: 28_800,
      levels: [{ after_seconds: 900, notify: 'admins' }],
      repeat: 0,
    },
    normal: { pickup_seconds: 3_600, resolve_seconds: 86_400, levels: [], repeat: 0 },
    low: { pickup_seconds: 14_400, resolve_seconds: 259_200, levels: [], repeat: 0 },
  },
};

/** The version the default policy answers as. */
export const DEFAULT_POLICY_VERSION = 0;

/**
 * The re-escalation that follows the `done`-th one (1-based count of those already sent since
 * creation or the last release): its level (1-based) and whom it asks, and the delay after it
 * until the one after that (null when the sequence, repeats included, ends with it).
 */
export function nextLevel(
  policy: Pick<SeverityPolicy, 'levels' | 'repeat'>,
  done: number,
): { level: number; notify: Notify; followedAfterSeconds: number | null } | null {
  const n = policy.levels.length;
  if (n === 0 || done >= n * (policy.repeat + 1)) return null;
  const index = done % n;
  const level = policy.levels[index] as EscalationLevel;
  const more = done + 1 < n * (policy.repeat + 1);
  const following = policy.levels[(done + 1) % n] as EscalationLevel;
  return {
    level: index + 1,
    notify: level.notify,
    followedAfterSeconds: more ? following.after_seconds : null,
  };
}

/** The users a policy's levels name, each with the field that names it (for a 400's details). */
export function namedUsers(policy: EscalationPolicy): { id: string; field: string }[] {
  const named: { id: string; field: string }[] = [];
  for (const severity of SEVERITIES) {
    policy.severities[severity].levels.forEach((level, i) => {
      if (!Array.isArray(level.notify)) return;
      level.notify.forEach((id, j) => {
        named.push({ id, field: `severities.${severity}.levels.${i}.notify.${j}` });
      });
    });
  }
  return named;
}
