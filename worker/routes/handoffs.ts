import { sqlState } from '../db/client';
import { createHandoff } from '../escalations/create-handoff';
import { handoffContext } from '../escalations/handoff-context';
import { replayHandoff } from '../escalations/handoff-replay';
import { type HandoffTransition, transitionHandoff } from '../escalations/handoff-transitions';
import { publishAfterCommit } from '../escalations/outbox';
import { requireRole } from '../lib/auth';
import { conflict, notFound } from '../lib/errors';
import { createRouter, jsonBody, jsonResponse, routesOf } from '../lib/openapi';
import { IdParam } from '../schemas/common';
import {
  CreateHandoffBody,
  EscalationCardSchema,
  HandoffContextSchema,
  IdempotencyHeaders,
} from '../schemas/escalations';

const writers = requireRole('engineer', 'admin');
const route = routesOf('Handoffs');

const escalate = route({
  method: 'post',
  path: '/sessions/{id}/handoffs',
  summary: 'Escalate a session',
  description:
    'Writes the handoff and its outbox row in one statement and answers once the account hub has logged the event (its fan-out to the streams follows); the card reaches every engineer’s queue through the escalation stream. The AI assessment arrives later as `escalation.assessed`.',
  middleware: writers,
  request: { params: IdParam, headers: IdempotencyHeaders, body: jsonBody(CreateHandoffBody) },
  answers: { 201: jsonResponse(EscalationCardSchema, 'The handoff’s card, AI assessment `pending`') },
  errors: [403, 404, 409],
});

const transitionDocs: Record<HandoffTransition, { summary: string; description: string }> = {
  pickup: {
    summary: 'Pick up a handoff',
    description: 'The first one wins; later ones get 409 `already_picked_up`, naming who has it.',
  },
  resolve: { summary: 'Resolve a handoff', description: 'Closes an open or picked-up handoff.' },
  cancel: { summary: 'Cancel a handoff', description: 'Closes an open or picked-up handoff.' },
};

const transitionRoute = <N extends HandoffTransition>(name: N) =>
  route({
    method: 'post',
    path: `/handoffs/{id}/${name}`,
    ...transitionDocs[name],
    middleware: writers,
    request: { params: IdParam },
    answers: { 200: jsonResponse(EscalationCardSchema, 'The card after the change') },
    errors: [400, 403, 404, 409],
  });

const context = route({
  method: 'get',
  path: '/handoffs/{id}/context',
  summary: 'The pick-up screen of a handoff',
  request: { params: IdParam },
  answers: {
    200: jsonResponse(
      HandoffContextSchema,
      'Problem summary, what was tried, the AI assessment, where to start',
    ),
  },
  errors: [400, 404],
});

const router = createRouter().openapi(escalate, async (c) => {
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
      const replay = await replayHandoff(db, who, key, sessionId, body);
      if (replay.kind === 'mismatch') {
        throw conflict('idempotency_key_reused', 'this Idempotency-Key was used for a different request');
      }
      if (replay.kind === 'replay') return c.json(replay.card, 201, { 'Idempotent-Replayed': 'true' });
    }
    throw err;
  }
  if (!created) throw notFound('session');
  // Committed with its outbox row: the 201 waits until the hub has logged the event (bounded; the
  // outbox guarantees delivery anyway), not for the fan-out, which the hub does after answering.
  const delivery = publishAfterCommit(
    c.env,
    db,
    who.accountId,
    [created.event],
    c.var.config.OUTBOX_REDELIVER_AFTER_SECONDS,
  );
  c.var.afterResponse(delivery.settled);
  await delivery.logged;
  return c.json(created.card, 201, { Location: `/v1/handoffs/${created.card.id}/context` });
});

// A state change answers the card as it is now; a refused one says what the state is.
for (const name of ['pickup', 'resolve', 'cancel'] as const) {
  router.openapi(transitionRoute(name), async (c) => {
    const { id } = c.req.valid('param');
    const who = c.var.identity;
    const db = await c.var.db();
    const result = await transitionHandoff(db, who, name, id);
    if (!result.ok && result.reason === 'not_found') throw notFound('handoff');
    if (!result.ok) {
      const current = result.current;
      if (current.status === 'picked_up' && name === 'pickup') {
        throw conflict(
          'already_picked_up',
          `already picked up by ${current.picked_up_by?.name ?? 'someone else'}`,
          {
            picked_up_by: current.picked_up_by,
            picked_up_at: current.picked_up_at,
            status: current.status,
          },
        );
      }
      throw conflict('invalid_state', `the handoff is ${current.status.replace('_', ' ')}; cannot ${name}`, {
        status: current.status,
      });
    }
    const delivery = publishAfterCommit(
      c.env,
      db,
      who.accountId,
      [result.event],
      c.var.config.OUTBOX_REDELIVER_AFTER_SECONDS,
    );
    c.var.afterResponse(delivery.settled);
    await delivery.logged;
    return c.json(result.card, 200);
  });
}

router.openapi(context, async (c) => {
  const found = await handoffContext(await c.var.db(), c.var.identity.accountId, c.req.valid('param').id);
  if (!found) throw notFound('handoff');
  return c.json(found, 200);
});

export const handoffRoutes = router;
