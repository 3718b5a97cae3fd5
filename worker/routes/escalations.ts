import { type CardFilter, cardJson, countCardsByStatus, loadCards } from '../escalations/cards';
import { escalationMetrics } from '../escalations/escalation-metrics';
import { sweepAccount } from '../escalations/outbox';
import { ESCALATIONS_TOPIC } from '../escalations/topic';
import { hubFor } from '../hub/hub-client';
import { createRouter, jsonResponse, routesOf } from '../lib/openapi';
import { decodeCursor, page } from '../lib/pagination';
import {
  EscalationMetricsSchema,
  EscalationSnapshotSchema,
  MetricsQuery,
  SnapshotQuery,
} from '../schemas/escalations';
import { hubStream, lastEventIdOf } from '../streams/hub-stream';

const route = routesOf('Escalations');

const snapshot = route.get('/', {
  summary: 'The escalation queue: cards, newest first, filtered and paged',
  description:
    'Filters combine (all must hold): `status` and `severity` (one or more values each), `asking=me`, and `q` (words searched in the session’s title, problem summary and customer). `counts` gives, per status, how many cards match the other filters. Stream from the answer’s `last_event_id` to miss nothing; cards merge by `version`.',
  request: { query: SnapshotQuery },
  answers: { 200: jsonResponse(EscalationSnapshotSchema, 'One page of cards and the stream position') },
});

const stream = route.stream('/stream', {
  summary: 'The escalation events, live',
  description:
    'Events `escalation.created`, `escalation.assessed`, `escalation.picked_up`, `escalation.released` (+ `by`, `reason`), `escalation.reescalated` (+ `level`, `notify`), `escalation.sla_warning` and `escalation.sla_breached` (+ `clock`), `escalation.resolved`, `escalation.cancelled`, each with `{card, version}`; `reset` when the requested position is older than the log. Ephemeral `presence` frames (no id, never replayed): `{online, viewing}` when the stream opens and when it changes, at most once a second. 429 when the caller already holds `MAX_STREAMS_PER_USER` open streams.',
});

const metrics = route.get('/metrics', {
  summary:
    'Totals, time to pick-up and to resolve, SLA attainment, breaches and re-escalations, per severity and per day (admins)',
  roles: ['admin'],
  request: { query: MetricsQuery },
  answers: {
    200: jsonResponse(EscalationMetricsSchema, 'The metrics of the handoffs created in [from, to)'),
  },
});

export const escalationRoutes = createRouter()
  .openapi(snapshot, async (c) => {
    const { limit, cursor, status, severity, asking, q } = c.req.valid('query');
    const who = c.var.identity;
    const filter: CardFilter = {
      ...(status ? { statuses: status } : {}),
      ...(severity ? { severities: severity } : {}),
      ...(asking === 'me' ? { asking: { userId: who.userId, admin: who.role === 'admin' } } : {}),
      ...(q ? { text: q } : {}),
    };
    const after = decodeCursor(cursor);
    // Read the log position before the snapshot: a client that streams from it misses nothing
    // (an event already in the snapshot merges by version).
    const lastEventId = await hubFor(c.env, who.accountId).lastEventId(ESCALATIONS_TOPIC);
    const db = await c.var.db();
    // The database is awake for this read: deliver anything an earlier request left in the outbox.
    c.var.afterResponse(sweepAccount(c.env, db, who.accountId, c.var.config.OUTBOX_REDELIVER_AFTER_SECONDS));
    const [rows, counts] = await Promise.all([
      loadCards(db, who.accountId, { ...filter, ...(after ? { after } : {}), limit: limit + 1 }),
      countCardsByStatus(db, who.accountId, filter),
    ]);
    const { items, nextCursor } = page(rows, limit);
    return c.json(
      { items: items.map(cardJson), next_cursor: nextCursor, last_event_id: lastEventId, counts },
      200,
    );
  })
  .openapi(stream, (c) => hubStream(c, ESCALATIONS_TOPIC, lastEventIdOf(c)))
  .openapi(metrics, async (c) => {
    const range = c.req.valid('query');
    return c.json(await escalationMetrics(await c.var.db(), c.var.identity.accountId, range), 200);
  });
