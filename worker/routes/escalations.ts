import { cardJson, loadCards } from '../escalations/cards';
import { escalationMetrics } from '../escalations/escalation-metrics';
import { sweepAccount } from '../escalations/outbox';
import { ESCALATIONS_TOPIC } from '../escalations/topic';
import { hubFor } from '../hub/hub-client';
import { requireRole } from '../lib/auth';
import { createRouter, eventStreamResponse, jsonResponse, lastEventIdDoc, routesOf } from '../lib/openapi';
import { decodeCursor, page } from '../lib/pagination';
import {
  EscalationMetricsSchema,
  EscalationSnapshotSchema,
  MetricsQuery,
  SnapshotQuery,
} from '../schemas/escalations';
import { hubStream, lastEventIdOf } from '../streams/hub-stream';

const route = routesOf('Escalations');

const snapshot = route({
  method: 'get',
  path: '/',
  summary: 'The escalation queue: cards, newest first',
  description: 'Stream from the answer’s `last_event_id` to miss nothing; cards merge by `version`.',
  request: { query: SnapshotQuery },
  answers: { 200: jsonResponse(EscalationSnapshotSchema, 'One page of cards and the stream position') },
  errors: [400],
});

const stream = route({
  method: 'get',
  path: '/stream',
  summary: 'The escalation events, live',
  description:
    'Events `escalation.created`, `escalation.assessed`, `escalation.picked_up`, `escalation.resolved`, `escalation.cancelled` with `{card, version}`; `reset` when the requested position is older than the log.',
  middleware: requireRole('engineer', 'admin'),
  request: lastEventIdDoc,
  answers: { 200: eventStreamResponse('Server-Sent Events') },
  errors: [400, 403],
});

const metrics = route({
  method: 'get',
  path: '/metrics',
  summary: 'Totals by status and severity, time to pick-up, per day (admins)',
  middleware: requireRole('admin'),
  request: { query: MetricsQuery },
  answers: {
    200: jsonResponse(EscalationMetricsSchema, 'The metrics of the handoffs created in [from, to)'),
  },
  errors: [400, 403],
});

export const escalationRoutes = createRouter()
  .openapi(snapshot, async (c) => {
    const { limit, cursor, status } = c.req.valid('query');
    const who = c.var.identity;
    // Read the log position before the snapshot: a client that streams from it misses nothing
    // (an event already in the snapshot merges by version).
    const lastEventId = await hubFor(c.env, who.accountId).lastEventId(ESCALATIONS_TOPIC);
    const db = await c.var.db();
    // The database is awake for this read: deliver anything an earlier request left in the outbox.
    c.var.afterResponse(sweepAccount(c.env, db, who.accountId, c.var.config.OUTBOX_REDELIVER_AFTER_SECONDS));
    const rows = await loadCards(db, who.accountId, {
      ...(status ? { status } : {}),
      ...(cursor ? { after: decodeCursor(cursor) } : {}),
      limit: limit + 1,
    });
    const { items, nextCursor } = page(rows, limit);
    return c.json({ items: items.map(cardJson), next_cursor: nextCursor, last_event_id: lastEventId }, 200);
  })
  .openapi(stream, (c) => hubStream(c, ESCALATIONS_TOPIC, lastEventIdOf(c)))
  .openapi(metrics, async (c) => {
    const range = c.req.valid('query');
    return c.json(await escalationMetrics(await c.var.db(), c.var.identity.accountId, range), 200);
  });
