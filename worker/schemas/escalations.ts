import { z } from '@hono/zod-openapi';
import type { EscalationCard } from '../contract/events';
import {
  AI_STATUSES,
  HANDOFF_INTENTS,
  HANDOFF_STATUSES,
  NOTIFY_GROUPS,
  SEVERITIES,
  type Severity,
  SLA_STATES,
  TIMELINE_TYPES,
} from '../contract/statuses';
import { pageQuery } from '../lib/pagination';
import { isTimeZone, startOfDay } from '../lib/time-zone';
import { idempotencyHeaders, oneOrMoreOf, orNull, Timestamp, Uuid, uuidParam } from './common';
import { StepSchema } from './sessions';

// Escalations (handoffs and their cards) as the API takes and gives them. The card's TypeScript
// type is the event contract's (contract/events.ts); the schema below must describe exactly it,
// which the type check at the end of this file proves.

export const PersonSchema = z.object({ id: Uuid, name: z.string() }).openapi('Person');

export const AiAssessmentSchema = z
  .object({
    source: z.enum(['heuristic', 'llm']),
    provider: z.string(),
    model: z.string().nullable(),
    summary: z.string(),
    likely_cause: z.string().nullable(),
    ruled_out: z
      .array(z.string())
      .optional()
      .openapi({ description: 'What the steps tried so far rule out (absent from older assessments)' }),
    suggested_next_steps: z.array(z.string()),
    generated_at: Timestamp,
  })
  .openapi('AiAssessment');

const slaState = z.enum(SLA_STATES);

export const SlaClocksSchema = z
  .object({
    pickup_due_at: Timestamp.openapi({
      description: 'End of the pick-up window (creation + pickup_seconds)',
    }),
    resolve_due_at: Timestamp.openapi({
      description: 'End of the resolve window (creation + resolve_seconds)',
    }),
    pickup_warn_at: Timestamp.openapi({
      description: 'When the pick-up clock warns (warn_at of its window)',
    }),
    resolve_warn_at: Timestamp.openapi({ description: 'When the resolve clock warns' }),
    pickup: slaState.openapi({ description: 'Running while ok or warning; stopped as met or breached' }),
    resolve: slaState,
  })
  .openapi('SlaClocks');

export const CardNotifySchema = z
  .union([z.enum(NOTIFY_GROUPS), z.array(Uuid)])
  .openapi({ description: 'Who is being asked now: `everyone`, `admins`, or these users' });

export const EscalationCardSchema = z
  .object({
    id: Uuid,
    session_id: Uuid,
    intent: z.enum(HANDOFF_INTENTS),
    reason: z.string(),
    severity: z.enum(SEVERITIES),
    status: z.enum(HANDOFF_STATUSES),
    to_user_id: Uuid.nullable(),
    created_by: PersonSchema,
    picked_up_by: orNull(PersonSchema),
    picked_up_at: Timestamp.nullable(),
    closed_by: orNull(PersonSchema),
    closed_at: Timestamp.nullable(),
    session: z.object({ title: z.string(), problem_summary: z.string(), customer: z.string().nullable() }),
    ai_status: z.enum(AI_STATUSES),
    ai_assessment: orNull(AiAssessmentSchema),
    ai_error: z.string().nullable(),
    sla: SlaClocksSchema,
    level: z
      .int()
      .openapi({ description: 'The re-escalation level reached: 0 at creation and after a release' }),
    notify: CardNotifySchema,
    next_level_at: Timestamp.nullable().openapi({
      description: 'When the next re-escalation is due; null when none is',
    }),
    policy_version: z
      .int()
      .openapi({ description: 'The policy version the card was created under (0: default)' }),
    version: z
      .int()
      .openapi({ description: 'Bumped by every change: keep the card with the higher version' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('EscalationCard');

/** A count for every value of a list, zero included. */
const countsOf = <const T extends readonly string[]>(values: T) =>
  z.object(Object.fromEntries(values.map((v) => [v, z.int()])) as Record<T[number], z.ZodInt>);

export const SnapshotQuery = pageQuery.extend({
  status: oneOrMoreOf(HANDOFF_STATUSES).optional(),
  severity: oneOrMoreOf(SEVERITIES).optional(),
  asking: z.enum(['me']).optional().openapi({
    description:
      '`me`: only the open cards asking the caller (their `notify` lists the caller, or is `admins` and the caller is one)',
  }),
  q: z.string().trim().min(1).max(200).optional().openapi({
    description:
      'Text search: cards whose session title, problem summary or customer contains these words (each of them, in any case)',
    example: 'vpn acme',
  }),
});

export const EscalationSnapshotSchema = z
  .object({
    items: z.array(EscalationCardSchema).openapi({ description: 'Newest first' }),
    next_cursor: z.string().nullable(),
    last_event_id: z.int().openapi({ description: 'Where the escalation stream resumes (`Last-Event-ID`)' }),
    counts: countsOf(HANDOFF_STATUSES).openapi({
      description:
        'The cards of each status that match every filter but `status` (and the cursor): what each status would list',
    }),
  })
  .openapi('EscalationSnapshot');

export const CreateHandoffBody = z
  .strictObject({
    intent: z.enum(HANDOFF_INTENTS),
    reason: z.string().trim().min(1).max(2_000),
    severity: z.enum(SEVERITIES),
    to_user_id: uuidParam.optional().openapi({
      description: 'Required for a transfer: an engineer or admin of the account, asked first',
    }),
  })
  .superRefine((b, ctx) => {
    if (b.intent === 'transfer' && b.to_user_id === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['to_user_id'],
        message: 'a transfer needs to_user_id: the user it is offered to',
      });
    }
  })
  .openapi('CreateHandoff');

export const ReleaseBody = z
  .strictObject({
    reason: z.string().trim().min(1).max(2_000).optional().openapi({ description: 'Why it goes back' }),
  })
  .openapi('ReleaseHandoff');

export const TimelineItemSchema = z
  .object({
    at: Timestamp,
    type: z.enum(TIMELINE_TYPES),
    version: z.int().openapi({ description: 'The card’s version after this change' }),
    actor: orNull(z.object({ user_id: Uuid, name: z.string() })).openapi({
      description: 'Who did it; null for what the system did',
    }),
    details: z.record(z.string(), z.unknown()).openapi({
      description:
        'Per type: `created` {intent, severity, reason, to_user_id, policy_version}; `released` {reason}; `reescalated` {level, notify}; `sla_warning`/`sla_breached` {clock}; `assessed` {ai_status, source?, provider?, error?}',
    }),
  })
  .openapi('TimelineItem');

export const TimelineSchema = z
  .object({ items: z.array(TimelineItemSchema).openapi({ description: 'Oldest first' }) })
  .openapi('Timeline');

export const IdempotencyHeaders = idempotencyHeaders(
  'The same key and body answer the same handoff (`Idempotent-Replayed: true`)',
);

export const HandoffContextSchema = z
  .object({
    handoff: EscalationCardSchema,
    problem_summary: z.string(),
    tried: z.array(StepSchema).openapi({ description: 'The session’s steps, oldest first' }),
    ai_status: z.enum(AI_STATUSES),
    ai_assessment: orNull(AiAssessmentSchema),
    start_here: z.object({ summary: z.string(), session_id: Uuid, session_url: z.string() }),
  })
  .openapi('HandoffContext');

const DAY_MS = 86_400_000;
const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .openapi({ description: 'An ISO 8601 time, or a date (its midnight in `tz`)' });

const TimeZone = z
  .string()
  .refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris')
  .openapi({ description: 'Days (and date-only bounds) in this zone; default UTC', example: 'Europe/Paris' });

export const MetricsQuery = z
  .object({
    from: instant.optional().openapi({ description: 'Default: 30 days before `to`' }),
    to: instant.optional().openapi({ description: 'Default: now' }),
    tz: TimeZone.optional(),
  })
  .transform(({ from, to, tz = 'UTC' }) => {
    const at = (v: string) => (v.length === 10 ? startOfDay(v, tz) : new Date(v));
    const end = to ? at(to) : new Date();
    return { from: from ? at(from) : new Date(end.getTime() - 30 * DAY_MS), to: end, tz };
  })
  .refine((r) => r.from < r.to, { message: 'from must be before to', path: ['from'] })
  .refine((r) => r.to.getTime() - r.from.getTime() <= 366 * DAY_MS + 2 * 3_600_000, {
    message: 'the range may span at most 366 days',
    path: ['to'],
  });

const seconds = z
  .number()
  .nullable()
  .openapi({ description: 'Seconds, to the millisecond; null without data' });

const durations = z.object({ count: z.int(), median: seconds, p90: seconds });

const share = z.number().nullable().openapi({
  description: 'Between 0 and 1: met / (met + breached) of the stopped clocks; null without one',
});

export const SlaFiguresSchema = z
  .object({
    handoffs: z.int(),
    pickup_attainment: share,
    resolve_attainment: share,
    pickup_breaches: z.int(),
    resolve_breaches: z.int(),
    reescalations: z.int(),
    time_to_resolve_seconds: durations,
  })
  .openapi('SlaFigures');

const figuresBySeverity = z.object(
  Object.fromEntries(SEVERITIES.map((s) => [s, SlaFiguresSchema])) as Record<
    Severity,
    typeof SlaFiguresSchema
  >,
);

export const EscalationMetricsSchema = z
  .object({
    from: Timestamp,
    to: Timestamp,
    tz: z.string().openapi({ description: 'The zone days are counted in' }),
    totals: z.object({
      total: z.int(),
      by_status: countsOf(HANDOFF_STATUSES),
      by_severity: countsOf(SEVERITIES),
    }),
    time_to_pickup_seconds: durations.openapi({ description: 'From creation to the first pick-up' }),
    time_to_resolve_seconds: durations.openapi({ description: 'From creation to resolve (resolved cards)' }),
    per_day: z.array(
      z.object({
        date: z.iso.date(),
        created: z.int(),
        picked_up: z.int(),
        median_seconds: seconds,
        p90_seconds: seconds,
      }),
    ),
    sla: z.object({
      overall: SlaFiguresSchema,
      by_severity: figuresBySeverity,
      per_day: z.array(SlaFiguresSchema.extend({ date: z.iso.date(), by_severity: figuresBySeverity })),
    }),
  })
  .openapi('EscalationMetrics');

// The schema and the contract's type must say the same thing, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const cardSchemaIsTheContract: Same<z.infer<typeof EscalationCardSchema>, EscalationCard> = true;
void cardSchemaIsTheContract;
