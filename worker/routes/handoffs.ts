import type { EscalationCard } from '../contract/events';
import { handoffExists } from '../escalations/cards';
import { handoffContext } from '../escalations/handoff-context';
import { createHandoffOnce } from '../escalations/handoff-idempotency';
import { type HandoffTransition, transitionHandoff } from '../escalations/handoff-transitions';
import { publishFromRequest } from '../escalations/outbox';
import { loadTimeline } from '../escalations/timeline-store';
import { hubFor } from '../hub/hub-client';
import {
  conflict,
  forbidden,
  idempotencyKeyReused,
  notFound,
  tooManyRequests,
  validationFailed,
} from '../lib/errors';
import { hubCall } from '../lib/hub-call';
import { createRouter, jsonBody, jsonResponse, routesOf } from '../lib/openapi';
import {
  CreateHandoffBody,
  EscalationCardSchema,
  HandoffContextSchema,
  IdempotencyHeaders,
  ReleaseBody,
  TimelineSchema,
} from '../schemas/escalations';

const route = routesOf('Handoffs');

const escalate = route.post('/sessions/{id}/handoffs', {
  summary: 'Escalate a session',
  description:
    'Writes the handoff and its outbox row in one statement and answers once the account hub has logged the event (its fan-out to the streams follows); the card reaches every engineer’s queue through the escalation stream. The AI assessment arrives later as `escalation.assessed`. 429 past `MAX_HANDOFFS_PER_MINUTE` handoffs of the caller in the last minute.',
  request: { headers: IdempotencyHeaders, body: jsonBody(CreateHandoffBody) },
  answers: { 201: jsonResponse(EscalationCardSchema, 'The handoff’s card, AI assessment `pending`') },
  errors: [409, 422, 429],
});

type SimpleTransition = Exclude<HandoffTransition, 'release'>;

const transitionDocs: Record<SimpleTransition, { summary: string; description: string }> = {
  pickup: {
    summary: 'Pick up a handoff',
    description:
      'The first one wins; later ones get 409 `already_picked_up`, naming who has it. Stops the pick-up clock and re-escalation.',
  },
  resolve: {
    summary: 'Resolve a handoff',
    description: 'Closes an open or picked-up handoff; stops its clocks.',
  },
  cancel: {
    summary: 'Cancel a handoff',
    description: 'Closes an open or picked-up handoff; stops its clocks.',
  },
};

const transitionRoute = <N extends SimpleTransition>(name: N) =>
  route.post(`/handoffs/{id}/${name}`, {
    ...transitionDocs[name],
    answers: { 200: jsonResponse(EscalationCardSchema, 'The card after the change') },
    errors: [409],
  });

const release = route.post('/handoffs/{id}/release', {
  summary: 'Hand a picked-up card back to the queue',
  description:
    'The holder or an admin (anyone else 403; a card that is not picked up 409). The card is `open` again, asking everyone; re-escalation restarts at level 1; `escalation.released` carries `by` and `reason`.',
  request: { body: jsonBody(ReleaseBody) },
  answers: { 200: jsonResponse(EscalationCardSchema, 'The card, back in the queue') },
  errors: [409],
});

const timeline = route.get('/handoffs/{id}/timeline', {
  summary: 'Every change of a card, oldest first',
  description:
    'Kept in Postgres, written in the transaction of each change: the audit trail outlives the hub’s log.',
  answers: { 200: jsonResponse(TimelineSchema, 'The card’s changes') },
});

// A write, so a viewer is refused: saying "I am on it" to the team is acting on the queue.
const viewingRoute = (method: 'put' | 'delete') =>
  route[method]('/handoffs/{id}/viewing', {
    ...(method === 'put'
      ? {
          summary: 'I am looking at this card (for 30 s)',
          description:
            'Presence: the escalation stream’s `presence` frame lists the caller under this card for 30 s; renew it every 15 s. Nothing is stored. Engineers and admins; a viewer is 403.',
        }
      : { summary: 'I stopped looking at this card', description: 'Ends what PUT started, at once.' }),
    answers: { 204: { description: 'Done' } },
  });

const context = route.get('/handoffs/{id}/context', {
  summary: 'The pick-up screen of a handoff',
  answers: {
    200: jsonResponse(
      HandoffContextSchema,
      'Problem summary, what was tried, the AI assessment, where to start',
    ),
  },
});

const router = createRouter().openapi(escalate, async (c) => {
  const { id: sessionId } = c.req.valid('param');
  const body = c.req.valid('json');
  const key = c.req.valid('header')['idempotency-key'];
  const who = c.var.identity;
  const db = await c.var.db();
  const limit = c.var.config.MAX_HANDOFFS_PER_MINUTE;
  const created = await createHandoffOnce(db, who, sessionId, body, key, limit);
  switch (created.kind) {
    case 'replayed':
      return c.json(created.card, 201, { 'Idempotent-Replayed': 'true' });
    case 'key_reused':
      throw idempotencyKeyReused();
    case 'no_session':
      throw notFound('session');
    case 'bad_target':
      throw validationFailed('body', [
        { field: 'to_user_id', message: 'must be an engineer or admin of this account' },
      ]);
    case 'rate_limited':
      throw tooManyRequests(
        'too_many_handoffs',
        `you created ${limit} handoffs in the last minute, the limit (MAX_HANDOFFS_PER_MINUTE); nothing was written`,
        created.retryAfterSeconds,
        { limit },
      );
    case 'created':
      await publishFromRequest(c, db, [created.event]);
      return c.json(created.card, 201, { Location: `/v1/handoffs/${created.card.id}/context` });
  }
});

/** Why a refused change was refused, as the API says it. */
function refusal(name: HandoffTransition, current: EscalationCard) {
  if (current.status === 'picked_up' && name === 'pickup') {
    return conflict(
      'already_picked_up',
      `already picked up by ${current.picked_up_by?.name ?? 'someone else'}`,
      {
        picked_up_by: current.picked_up_by,
        picked_up_at: current.picked_up_at,
        status: current.status,
      },
    );
  }
  return conflict('invalid_state', `the handoff is ${current.status.replace('_', ' ')}; cannot ${name}`, {
    status: current.status,
  });
}

// A state change answers the card as it is now; a refused one says what the state is.
for (const name of ['pickup', 'resolve', 'cancel'] as const) {
  router.openapi(transitionRoute(name), async (c) => {
    const { id } = c.req.valid('param');
    const who = c.var.identity;
    const db = await c.var.db();
    const result = await transitionHandoff(db, who, name, id);
    if (!result.ok && result.reason === 'not_found') throw notFound('handoff');
    if (!result.ok) throw refusal(name, result.current);
    await publishFromRequest(c, db, [result.event]);
    return c.json(result.card, 200);
  });
}

router.openapi(release, async (c) => {
  const { id } = c.req.valid('param');
  const { reason } = c.req.valid('json');
  const who = c.var.identity;
  const db = await c.var.db();
  const result = await transitionHandoff(db, who, 'release', id, { reason });
  if (!result.ok && result.reason === 'not_found') throw notFound('handoff');
  if (!result.ok && result.reason === 'forbidden') {
    throw forbidden(
      `only ${result.current.picked_up_by?.name ?? 'the holder'} (who has it) or an admin may release it`,
    );
  }
  if (!result.ok) throw refusal('release', result.current);
  await publishFromRequest(c, db, [result.event]);
  return c.json(result.card, 200);
});

router.openapi(timeline, async (c) => {
  const { id } = c.req.valid('param');
  const who = c.var.identity;
  const db = await c.var.db();
  const items = await loadTimeline(db, who.accountId, id);
  if (items.length === 0 && !(await handoffExists(db, who.accountId, id))) throw notFound('handoff');
  return c.json({ items }, 200);
});

for (const method of ['put', 'delete'] as const) {
  router.openapi(viewingRoute(method), async (c) => {
    const { id } = c.req.valid('param');
    const who = c.var.identity;
    if (!(await handoffExists(await c.var.db(), who.accountId, id))) throw notFound('handoff');
    await hubCall('setViewing', () =>
      hubFor(c.env, who.accountId).setViewing(id, { user_id: who.userId, name: who.name }, method === 'put'),
    );
    return c.body(null, 204);
  });
}

router.openapi(context, async (c) => {
  const found = await handoffContext(await c.var.db(), c.var.identity.accountId, c.req.valid('param').id);
  if (!found) throw notFound('handoff');
  return c.json(found, 200);
});

export const handoffRoutes = router;
