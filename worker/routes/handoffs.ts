import { and, asc, eq, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { Hono } from 'hono';
import { createFactory } from 'hono/factory';
import { z } from 'zod';
import type { EscalationCard, EscalationEventType } from '../contract/events';
import { type Db, sqlState, transaction } from '../db/client';
import { handoffs, sessionSteps } from '../db/schema';
import { loadCard } from '../escalations/cards';
import { createHandoff } from '../escalations/create-handoff';
import { publishCommitted, recordChange } from '../escalations/outbox';
import type { AppEnv, Identity } from '../lib/app-env';
import { requireRole } from '../lib/auth';
import { ApiError, notFound } from '../lib/errors';
import { validate } from '../lib/validate';
import { idParam, uuidParam } from './params';
import { stepJson } from './sessions';

const createHandoffBody = z.strictObject({
  intent: z.enum(['escalate', 'transfer']),
  reason: z.string().trim().min(1).max(2_000),
  severity: z.enum(['low', 'normal', 'high', 'urgent']),
  to_user_id: uuidParam.optional(),
});

const idempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1 to 200 visible ASCII characters')
    .optional(),
});

const writers = requireRole('engineer', 'admin');
const factory = createFactory<AppEnv>();

async function findByKey(db: Db, who: Identity, key: string) {
  const [row] = await db
    .select()
    .from(handoffs)
    .where(
      and(
        eq(handoffs.accountId, who.accountId),
        eq(handoffs.createdBy, who.userId),
        eq(handoffs.idempotencyKey, key),
      ),
    );
  return row;
}

/** The same key returns the same handoff; the same key for a different request is a conflict. */
async function replay(
  db: Db,
  who: Identity,
  key: string,
  sessionId: string,
  body: z.infer<typeof createHandoffBody>,
) {
  const row = await findByKey(db, who, key);
  if (!row) return undefined;
  if (
    row.sessionId !== sessionId ||
    row.intent !== body.intent ||
    row.reason !== body.reason ||
    row.severity !== body.severity ||
    row.toUserId !== (body.to_user_id ?? null)
  ) {
    throw new ApiError(
      409,
      'idempotency_key_reused',
      'this Idempotency-Key was used for a different request',
    );
  }
  return loadCard(db, who.accountId, row.id);
}

type Transition = {
  event: EscalationEventType;
  from: readonly EscalationCard['status'][];
  set: (who: Identity) => PgUpdateSetSource<typeof handoffs>;
};

const transitions: Record<'pickup' | 'resolve' | 'cancel', Transition> = {
  pickup: {
    event: 'escalation.picked_up',
    from: ['open'],
    set: (who) => ({ status: 'picked_up', pickedUpBy: who.userId, pickedUpAt: sql`now()` }),
  },
  resolve: {
    event: 'escalation.resolved',
    from: ['open', 'picked_up'],
    set: (who) => ({ status: 'resolved', closedBy: who.userId, closedAt: sql`now()` }),
  },
  cancel: {
    event: 'escalation.cancelled',
    from: ['open', 'picked_up'],
    set: (who) => ({ status: 'cancelled', closedBy: who.userId, closedAt: sql`now()` }),
  },
};

/**
 * A state change in one conditional UPDATE: of two concurrent pick-ups exactly one matches
 * `status = 'open'`; the other learns who has it.
 */
function transitionRoute(name: keyof typeof transitions) {
  const t = transitions[name];
  return factory.createHandlers(writers, validate('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const who = c.var.identity;
    const db = await c.var.db();
    const { card, event } = await transaction(db, async (tx) => {
      const [updated] = await tx
        .update(handoffs)
        .set({ ...t.set(who), version: sql`${handoffs.version} + 1`, updatedAt: sql`now()` })
        .where(
          and(
            eq(handoffs.id, id),
            eq(handoffs.accountId, who.accountId),
            sql`${handoffs.status} in (${sql.join(
              t.from.map((s) => sql`${s}`),
              sql`, `,
            )})`,
          ),
        )
        .returning({ id: handoffs.id });
      if (!updated) {
        const current = await loadCard(tx, who.accountId, id);
        if (!current) throw notFound('handoff');
        if (current.status === 'picked_up' && name === 'pickup') {
          throw new ApiError(
            409,
            'already_picked_up',
            `already picked up by ${current.picked_up_by?.name ?? 'someone else'}`,
            {
              picked_up_by: current.picked_up_by,
              picked_up_at: current.picked_up_at,
              status: current.status,
            },
          );
        }
        throw new ApiError(
          409,
          'invalid_state',
          `the handoff is ${current.status.replace('_', ' ')}; cannot ${name}`,
          {
            status: current.status,
          },
        );
      }
      const card = await loadCard(tx, who.accountId, id);
      if (!card) throw notFound('handoff');
      return { card, event: await recordChange(tx, who.accountId, t.event, card) };
    });
    c.var.afterResponse(publishCommitted(c.env, db, who.accountId, [event]));
    return c.json(card);
  });
}

export const handoffRoutes = new Hono<AppEnv>()
  .post(
    '/sessions/:id/handoffs',
    writers,
    validate('param', idParam),
    validate('header', idempotencyHeader),
    validate('json', createHandoffBody),
    async (c) => {
      const { id: sessionId } = c.req.valid('param');
      const body = c.req.valid('json');
      const key = c.req.valid('header')['idempotency-key'];
      const who = c.var.identity;
      const db = await c.var.db();
      let created: Awaited<ReturnType<typeof createHandoff>>;
      try {
        created = await createHandoff(db, who, sessionId, body, key);
      } catch (err) {
        // The key was used before (or by a concurrent twin): answer with that handoff.
        if (key && sqlState(err) === '23505') {
          const existing = await replay(db, who, key, sessionId, body);
          if (existing) return c.json(existing, 201, { 'Idempotent-Replayed': 'true' });
        }
        throw err;
      }
      if (!created) throw notFound('session');
      // Committed: the outbox guarantees delivery, so the 201 does not wait for the hub.
      c.var.afterResponse(publishCommitted(c.env, db, who.accountId, [created.event]));
      return c.json(created.card, 201, { Location: `/v1/handoffs/${created.card.id}/context` });
    },
  )
  .post('/handoffs/:id/pickup', ...transitionRoute('pickup'))
  .post('/handoffs/:id/resolve', ...transitionRoute('resolve'))
  .post('/handoffs/:id/cancel', ...transitionRoute('cancel'))
  .get('/handoffs/:id/context', validate('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const who = c.var.identity;
    const db = await c.var.db();
    const card = await loadCard(db, who.accountId, id);
    if (!card) throw notFound('handoff');
    const tried = await db
      .select()
      .from(sessionSteps)
      .where(eq(sessionSteps.sessionId, card.session_id))
      .orderBy(asc(sessionSteps.createdAt), asc(sessionSteps.id));
    const lastPartial = tried.filter((s) => s.outcome === 'partial').at(-1);
    const suggestion =
      card.ai_assessment?.suggested_next_steps[0] ??
      (lastPartial ? `Continue from the partial result: ${lastPartial.action}` : `Address: ${card.reason}`);
    return c.json({
      handoff: card,
      problem_summary: card.session.problem_summary,
      tried: tried.map(stepJson),
      ai_status: card.ai_status,
      ai_assessment: card.ai_assessment,
      start_here: {
        summary: suggestion,
        session_id: card.session_id,
        session_url: `/v1/sessions/${card.session_id}`,
      },
    });
  });
