import { z } from '@hono/zod-openapi';
import { STEP_OUTCOMES } from '../contract/statuses';
import type { SessionRow, SessionStepRow } from '../db/schema';
import { Timestamp, Uuid } from './common';

// Troubleshooting sessions and their steps, as the API takes and gives them.

const text = (max: number) => z.string().trim().min(1).max(max);

export const CreateSessionBody = z
  .strictObject({
    title: text(200),
    problem_summary: text(10_000),
    customer: text(200).optional(),
  })
  .openapi('CreateSession');

export const CreateStepBody = z
  .strictObject({
    action: text(2_000),
    outcome: z.enum(STEP_OUTCOMES),
    notes: text(10_000).optional(),
  })
  .openapi('CreateStep');

export const SessionSchema = z
  .object({
    id: Uuid,
    title: z.string(),
    problem_summary: z.string(),
    customer: z.string().nullable(),
    created_by: Uuid,
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Session');

export const StepSchema = z
  .object({
    id: Uuid,
    session_id: Uuid,
    action: z.string(),
    outcome: z.enum(STEP_OUTCOMES),
    notes: z.string().nullable(),
    author_id: Uuid,
    created_at: Timestamp,
  })
  .openapi('Step');

export const SessionDetailSchema = SessionSchema.extend({
  steps: z.array(StepSchema).openapi({ description: 'Every step, oldest first' }),
}).openapi('SessionDetail');

export const sessionJson = (s: SessionRow): z.infer<typeof SessionSchema> => ({
  id: s.id,
  title: s.title,
  problem_summary: s.problemSummary,
  customer: s.customer,
  created_by: s.createdBy,
  created_at: s.createdAt.toISOString(),
  updated_at: s.updatedAt.toISOString(),
});

export const stepJson = (s: SessionStepRow): z.infer<typeof StepSchema> => ({
  id: s.id,
  session_id: s.sessionId,
  action: s.action,
  outcome: s.outcome,
  notes: s.notes,
  author_id: s.authorId,
  created_at: s.createdAt.toISOString(),
});
