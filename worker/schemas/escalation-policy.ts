import { z } from '@hono/zod-openapi';
import { NOTIFY_GROUPS, SEVERITIES, type Severity } from '../contract/statuses';
import type { EscalationPolicy } from '../escalations/policy';
import { orNull, Timestamp, uuidParam } from './common';
import { PersonSchema } from './escalations';

// The escalation policy as the API takes and gives it. Every bad field is named in the 400's
// details (cross-field rules too), so an admin's form can mark each one.

const DAY = 86_400;
const seconds = (max: number, what: string) =>
  z
    .int('must be a whole number of seconds')
    .min(10, 'must be at least 10 seconds')
    .max(max, `must be at most ${max / DAY} days`)
    .openapi({ description: what });

export const NotifySchema = z
  .union([
    z.enum(NOTIFY_GROUPS),
    z
      .array(uuidParam)
      .min(1, 'must name at least one user')
      .max(50, 'may name at most 50 users')
      .refine((ids) => new Set(ids).size === ids.length, 'names a user twice'),
  ])
  .openapi('Notify', {
    description: '`everyone`, `admins`, or the ids of engineers or admins of the account',
  });

export const EscalationLevelSchema = z
  .strictObject({
    after_seconds: seconds(
      30 * DAY,
      "after the previous level's due time (the first: after creation or release)",
    ),
    notify: NotifySchema,
  })
  .openapi('EscalationLevel');

export const SeverityPolicySchema = z
  .strictObject({
    pickup_seconds: seconds(30 * DAY, 'the pick-up window, from creation'),
    resolve_seconds: seconds(90 * DAY, 'the resolve window, from creation'),
    levels: z.array(EscalationLevelSchema).max(10, 'may have at most 10 levels'),
    repeat: z
      .int('must be a whole number')
      .min(0, 'must be at least 0')
      .max(10, 'must be at most 10')
      .openapi({ description: 'how many more times the levels run after the first time' }),
  })
  .superRefine((s, ctx) => {
    if (s.resolve_seconds < s.pickup_seconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['resolve_seconds'],
        message: 'must be at least pickup_seconds: a card is picked up before it is resolved',
      });
    }
    if (s.repeat > 0 && s.levels.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['repeat'], message: 'must be 0 when there are no levels' });
    }
  })
  .openapi('SeverityPolicy');

export const EscalationPolicySchema = z
  .strictObject({
    warn_at: z
      .number('must be a number')
      .gt(0, 'must be more than 0')
      .lt(1, 'must be less than 1')
      .openapi({ description: 'the share of a window after which its clock warns' }),
    severities: z.strictObject(
      Object.fromEntries(SEVERITIES.map((s) => [s, SeverityPolicySchema])) as Record<
        Severity,
        typeof SeverityPolicySchema
      >,
    ),
  })
  .openapi('EscalationPolicy');

export const EscalationPolicyAnswerSchema = z
  .object({
    version: z.int().openapi({ description: '0 while the account uses the default policy' }),
    policy: EscalationPolicySchema,
    updated_at: Timestamp.nullable(),
    updated_by: orNull(PersonSchema),
  })
  .openapi('EscalationPolicyAnswer');

// The schema and the domain's type must say the same thing, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const policySchemaIsTheDomain: Same<z.infer<typeof EscalationPolicySchema>, EscalationPolicy> = true;
void policySchemaIsTheDomain;
