import { SEVERITIES, type Severity } from '../../../worker/contract/statuses';
import type { FieldIssue } from './api';
import type { Policy } from './policy-preview';

// The escalation policy as an editable form: durations as a number and a unit, the warning as a
// percentage, whom a level asks as a choice. What the server refuses comes back per field (its
// 400 names each one) and is shown beside that field.

export const UNITS = { s: 1, min: 60, h: 3_600, d: 86_400 } as const;
export type Unit = keyof typeof UNITS;
export const UNIT_LABELS: Record<Unit, string> = { s: 'seconds', min: 'minutes', h: 'hours', d: 'days' };

export interface DurationField {
  value: string;
  unit: Unit;
}
export interface LevelForm {
  after: DurationField;
  notify: 'everyone' | 'admins' | 'users';
  users: string[];
}
export interface SeverityForm {
  pickup: DurationField;
  resolve: DurationField;
  levels: LevelForm[];
  repeat: string;
}
export interface PolicyForm {
  warnPercent: string;
  severities: Record<Severity, SeverityForm>;
}

/** Seconds in the largest unit that holds them whole: 300 → 5 min, 14,400 → 4 h. */
export function toDuration(seconds: number): DurationField {
  for (const unit of ['d', 'h', 'min'] as const) {
    if (seconds % UNITS[unit] === 0) return { value: String(seconds / UNITS[unit]), unit };
  }
  return { value: String(seconds), unit: 's' };
}

/** A field's number, or NaN when it is empty or not a number (the server names it). */
const num = (v: string) => (v.trim() === '' ? Number.NaN : Number(v));

/** Whole seconds, or NaN when the field is not a number (the server names it). */
export const seconds = (d: DurationField): number => Math.round(num(d.value) * UNITS[d.unit]);

/** The policy and its form each hold one entry a severity: this makes them, one from the other. */
const perSeverity = <T>(make: (s: Severity) => T) =>
  Object.fromEntries(SEVERITIES.map((s) => [s, make(s)])) as Record<Severity, T>;

export function toForm(policy: Policy): PolicyForm {
  const severities = perSeverity((s): SeverityForm => {
    const p = policy.severities[s];
    return {
      pickup: toDuration(p.pickup_seconds),
      resolve: toDuration(p.resolve_seconds),
      repeat: String(p.repeat),
      levels: p.levels.map((l) => ({
        after: toDuration(l.after_seconds),
        notify: Array.isArray(l.notify) ? 'users' : l.notify,
        users: Array.isArray(l.notify) ? [...l.notify] : [],
      })),
    };
  });
  return { warnPercent: String(Math.round(policy.warn_at * 10_000) / 100), severities };
}

export function fromForm(form: PolicyForm): Policy {
  const severities = perSeverity((s): Policy['severities'][Severity] => {
    const f = form.severities[s];
    return {
      pickup_seconds: seconds(f.pickup),
      resolve_seconds: seconds(f.resolve),
      repeat: num(f.repeat),
      levels: f.levels.map((l) => ({
        after_seconds: seconds(l.after),
        notify: l.notify === 'users' ? l.users : l.notify,
      })),
    };
  });
  return { warn_at: num(form.warnPercent) / 100, severities };
}

/** The form's own checks (what must be a number at all); the server checks the rest. */
export function formIssues(form: PolicyForm): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const needNumber = (field: string, v: string) => {
    if (!Number.isFinite(num(v))) issues.push({ field, message: 'enter a number' });
  };
  needNumber('warn_at', form.warnPercent);
  for (const s of SEVERITIES) {
    const f = form.severities[s];
    needNumber(`severities.${s}.pickup_seconds`, f.pickup.value);
    needNumber(`severities.${s}.resolve_seconds`, f.resolve.value);
    needNumber(`severities.${s}.repeat`, f.repeat);
    f.levels.forEach((l, i) => {
      needNumber(`severities.${s}.levels.${i}.after_seconds`, l.after.value);
      if (l.notify === 'users' && l.users.length === 0) {
        issues.push({ field: `severities.${s}.levels.${i}.notify`, message: 'choose at least one person' });
      }
    });
  }
  return issues;
}

/**
 * The message for each form field from the issues: a user named in a level's list
 * (`….notify.2`) is reported on that level's choice.
 */
export function issuesByField(issues: readonly FieldIssue[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const i of issues) {
    const field = i.field.replace(/(\.levels\.\d+\.notify)\.\d+$/, '$1');
    out.set(field, out.has(field) ? `${out.get(field)}; ${i.message}` : i.message);
  }
  return out;
}
