import { z } from '@hono/zod-openapi';
import type { EscalationCard } from '../contract/events';
import { AI_STATUSES, HANDOFF_INTENTS, HANDOFF_STATUSES, SEVERITIES } from '../contract/statuses';
import { pageQuery } from '../lib/pagination';
import { idempotencyHeaders, orNull, Timestamp, Uuid, uuidParam } from './common';
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
    suggested_next_steps: z.array(z.string()),
    generated_at: Timestamp,
  })
  .openapi('AiAssessment');

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
    version: z
      .int()
      .openapi({ description: 'Bumped by every change: keep the card with the higher version' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('EscalationCard');

export const SnapshotQuery = pageQuery.extend({ status: z.enum(HANDOFF_STATUSES).optional() });

export const EscalationSnapshotSchema = z
  .object({
    items: z.array(EscalationCardSchema).openapi({ description: 'Newest first' }),
    next_cursor: z.string().nullable(),
    last_event_id: z.int().openapi({ description: 'Where the escalation stream resumes (`Last-Event-ID`)' }),
  })
  .openapi('EscalationSnapshot');

export const CreateHandoffBody = z
  .strictObject({
    intent: z.enum(HANDOFF_INTENTS),
    reason: z.string().trim().min(1).max(2_000),
    severity: z.enum(SEVERITIES),
    to_user_id: uuidParam.optional(),
  })
  .openapi('CreateHandoff');

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
  .transform((v) => new Date(v))
  .openapi({ description: 'An ISO 8601 time, or a date (midnight UTC)' });

export const MetricsQuery = z
  .object({
    from: instant.optional().openapi({ description: 'Default: 30 days before `to`' }),
    to: instant.optional().openapi({ description: 'Default: now' }),
  })
  .transform(({ from, to }) => {
    const end = to ?? new Date();
    return { from: from ?? new Date(end.getTime() - 30 * DAY_MS), to: end };
  })
  .refine((r) => r.from < r.to, { message: 'from must be before to', path: ['from'] })
  .refine((r) => r.to.getTime() - r.from.getTime() <= 366 * DAY_MS, {
    message: 'the range may span at most 366 days',
    path: ['to'],
  });

/** A count for every value of a list, zero included. */
const countsOf = <const T extends readonly string[]>(values: T) =>
  z.object(Object.fromEntries(values.map((v) => [v, z.int()])) as Record<T[number], z.ZodInt>);

const seconds = z
  .number()
  .nullable()
  .openapi({ description: 'Seconds, to the millisecond; null without data' });

export const EscalationMetricsSchema = z
  .object({
    from: Timestamp,
    to: Timestamp,
    totals: z.object({
      total: z.int(),
      by_status: countsOf(HANDOFF_STATUSES),
      by_severity: countsOf(SEVERITIES),
    }),
    time_to_pickup_seconds: z.object({ count: z.int(), median: seconds, p90: seconds }),
    per_day: z.array(
      z.object({
        date: z.iso.date(),
        created: z.int(),
        picked_up: z.int(),
        median_seconds: seconds,
        p90_seconds: seconds,
      }),
    ),
  })
  .openapi('EscalationMetrics');

// The schema and the contract's type must say the same thing, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const cardSchemaIsTheContract: Same<z.infer<typeof EscalationCardSchema>, EscalationCard> = true;
void cardSchemaIsTheContract;
