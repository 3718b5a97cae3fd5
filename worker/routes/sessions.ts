import { and, asc, count, eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { transaction } from '../db/client';
import { type SessionRow, type SessionStepRow, sessionSteps, sessions } from '../db/schema';
import type { AppEnv } from '../lib/app-env';
import { requireRole } from '../lib/auth';
import { ApiError, notFound } from '../lib/errors';
import { afterCursor, decodeCursor, newestFirst, page, pageQuery } from '../lib/pagination';
import { validate } from '../lib/validate';
import { idParam } from './params';

const text = (max: number) => z.string().trim().min(1).max(max);

const createSession = z.strictObject({
  title: text(200),
  problem_summary: text(10_000),
  customer: text(200).optional(),
});

const createStep = z.strictObject({
  action: text(2_000),
  outcome: z.enum(['worked', 'failed', 'partial', 'unknown']),
  notes: text(10_000).optional(),
});

export const sessionJson = (s: SessionRow) => ({
  id: s.id,
  title: s.title,
  problem_summary: s.problemSummary,
  customer: s.customer,
  created_by: s.createdBy,
  created_at: s.createdAt.toISOString(),
  updated_at: s.updatedAt.toISOString(),
});

export const stepJson = (s: SessionStepRow) => ({
  id: s.id,
  session_id: s.sessionId,
  action: s.action,
  outcome: s.outcome,
  notes: s.notes,
  author_id: s.authorId,
  created_at: s.createdAt.toISOString(),
});

const writers = requireRole('engineer', 'admin');

// Every read of a session (its page, the pick-up context, the assessment) loads all its steps.
export const MAX_STEPS_PER_SESSION = 500;

export const sessionRoutes = new Hono<AppEnv>()
  .post('/', writers, validate('json', createSession), async (c) => {
    const body = c.req.valid('json');
    const who = c.var.identity;
    const db = await c.var.db();
    const [row] = await db
      .insert(sessions)
      .values({
        accountId: who.accountId,
        createdBy: who.userId,
        title: body.title,
        problemSummary: body.problem_summary,
        customer: body.customer ?? null,
      })
      .returning();
    if (!row) throw new Error('insert returned no row');
    return c.json({ ...sessionJson(row), steps: [] }, 201, { Location: `/v1/sessions/${row.id}` });
  })
  .get('/', validate('query', pageQuery), async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const after = decodeCursor(cursor);
    const db = await c.var.db();
    const rows = await db
      .select()
      .from(sessions)
      .where(and(eq(sessions.accountId, c.var.identity.accountId), afterCursor(sessions, after)))
      .orderBy(...newestFirst(sessions))
      .limit(limit + 1);
    const { items, nextCursor } = page(rows, limit);
    return c.json({ items: items.map(sessionJson), next_cursor: nextCursor });
  })
  .get('/:id', validate('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const db = await c.var.db();
    const [row] = await db
      .select()
      .from(sessions)
      .where(and(eq(sessions.id, id), eq(sessions.accountId, c.var.identity.accountId)));
    if (!row) throw notFound('session');
    const steps = await db
      .select()
      .from(sessionSteps)
      .where(eq(sessionSteps.sessionId, id))
      .orderBy(asc(sessionSteps.createdAt), asc(sessionSteps.id));
    return c.json({ ...sessionJson(row), steps: steps.map(stepJson) });
  })
  .post('/:id/steps', writers, validate('param', idParam), validate('json', createStep), async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const who = c.var.identity;
    const db = await c.var.db();
    const row = await transaction(db, async (tx) => {
      const [session] = await tx
        .update(sessions)
        .set({ updatedAt: sql`now()` })
        .where(and(eq(sessions.id, id), eq(sessions.accountId, who.accountId)))
        .returning({ id: sessions.id });
      if (!session) throw notFound('session');
      // The UPDATE above locks the session row, so concurrent adds count one at a time.
      const [{ n } = { n: 0 }] = await tx
        .select({ n: count() })
        .from(sessionSteps)
        .where(eq(sessionSteps.sessionId, id));
      if (n >= MAX_STEPS_PER_SESSION) {
        throw new ApiError(409, 'session_full', `a session holds at most ${MAX_STEPS_PER_SESSION} steps`);
      }
      const [step] = await tx
        .insert(sessionSteps)
        .values({
          sessionId: id,
          accountId: who.accountId,
          authorId: who.userId,
          action: body.action,
          outcome: body.outcome,
          notes: body.notes ?? null,
        })
        .returning();
      return step;
    });
    if (!row) throw notFound('session');
    return c.json(stepJson(row), 201);
  });
