import type { Context } from 'hono';
import { publishFromRequest } from '../escalations/outbox';
import { hubFor } from '../hub/hub-client';
import type { AppEnv } from '../lib/app-env';
import { badRequest, conflict, notFound, tooManyRequests } from '../lib/errors';
import { hubCall } from '../lib/hub-call';
import { createRouter, jsonBody, jsonResponse, routesOf } from '../lib/openapi';
import { decodeCursor, page } from '../lib/pagination';
import {
  CreateWebhookBody,
  DeliveryListQuery,
  DeliverySchema,
  deliveryJson,
  UpdateWebhookBody,
  WebhookSchema,
  WebhookTestSchema,
  WebhookWithSecretSchema,
  webhookJson,
} from '../schemas/webhooks';
import {
  createEndpoint,
  deleteEndpoint,
  findEndpoint,
  listDeliveries,
  listEndpoints,
  updateEndpoint,
} from '../webhooks/webhook-store';
import { checkWebhookTarget } from '../webhooks/webhook-target';
import { TESTS_PER_MINUTE, type TestResult } from '../webhooks/webhooks-module';

// Endpoints send the account's events out and hold their signing secrets: admins' business.
const route = routesOf('Webhooks', { roles: ['admin'] });

/** The URL as it will be stored, or a 400 naming why it may not be a target. */
function targetOf(c: Context<AppEnv>, raw: string): string {
  const check = checkWebhookTarget(raw, c.var.config.WEBHOOK_ALLOW_HOSTS);
  if (!check.ok)
    throw badRequest('invalid_url', `url: ${check.reason}`, [{ field: 'url', message: check.reason }]);
  return check.url;
}

const create = route.post('/', {
  summary: 'Register an outbound endpoint',
  description:
    'Admins only. The answer holds the signing secret, once. At most `MAX_WEBHOOKS_PER_ACCOUNT` endpoints per account (default 50): one more is 409 `limit_reached` (the account holds too many; waiting does not help, deleting one does).',
  request: { body: jsonBody(CreateWebhookBody) },
  answers: { 201: jsonResponse(WebhookWithSecretSchema, 'The endpoint, with its secret') },
  errors: [409],
});

const list = route.list('/', {
  summary: 'List the account’s endpoints, newest first',
  item: WebhookSchema,
  name: 'Webhook',
  what: 'endpoints',
});

const one = route.get('/{id}', {
  summary: 'One endpoint',
  answers: { 200: jsonResponse(WebhookSchema, 'The endpoint (never its secret)') },
});

const update = route.patch('/{id}', {
  summary: 'Change an endpoint: enable or disable, events, URL, format, or rotate its secret',
  description:
    'With `rotate_secret: true` the answer holds the new secret, once; for 24 h deliveries carry a signature under each.',
  request: { body: jsonBody(UpdateWebhookBody) },
  answers: {
    200: jsonResponse(
      WebhookWithSecretSchema.partial({ secret: true }).openapi('UpdatedWebhook'),
      'The endpoint',
    ),
  },
});

const remove = route.delete('/{id}', {
  summary: 'Delete an endpoint and its delivery log',
  answers: { 204: { description: 'Deleted; pending deliveries are dropped' } },
});

const deliveries = route.list('/{id}/deliveries', {
  summary: 'The endpoint’s delivery log: every attempt, newest first',
  query: DeliveryListQuery,
  item: DeliverySchema,
  name: 'WebhookDelivery',
  what: 'attempts',
});

const test = route.post('/{id}/test', {
  summary: 'Send a `ping` to the endpoint',
  description:
    'Whatever its event filter, and also while it is disabled; the attempt appears in its delivery log. At most 5 tests per endpoint in any minute (else 429 `rate_limited` with `Retry-After`): a test is a request to somebody’s server.',
  answers: { 202: jsonResponse(WebhookTestSchema, 'Queued; `event_id` is its `webhook-id`') },
  errors: [429],
});

export const webhookRoutes = createRouter()
  .openapi(create, async (c) => {
    const body = c.req.valid('json');
    const url = targetOf(c, body.url);
    const max = c.var.config.MAX_WEBHOOKS_PER_ACCOUNT;
    const db = await c.var.db();
    const created = await createEndpoint(db, c.var.identity.accountId, { ...body, url }, max);
    if (!created.ok) {
      throw conflict(
        'limit_reached',
        `an account has at most ${max} webhook endpoints (MAX_WEBHOOKS_PER_ACCOUNT); delete one to add another`,
        { limit: max },
      );
    }
    await publishFromRequest(c, db, [created.notice]);
    const row = created.row;
    return c.json({ ...webhookJson(row), secret: row.secret }, 201, { Location: `/v1/webhooks/${row.id}` });
  })
  .openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const rows = await listEndpoints(await c.var.db(), c.var.identity.accountId, {
      after: decodeCursor(cursor),
      limit: limit + 1,
    });
    const { items, nextCursor } = page(rows, limit);
    return c.json({ items: items.map(webhookJson), next_cursor: nextCursor }, 200);
  })
  .openapi(one, async (c) => {
    const row = await findEndpoint(await c.var.db(), c.var.identity.accountId, c.req.valid('param').id);
    if (!row) throw notFound('webhook');
    return c.json(webhookJson(row), 200);
  })
  .openapi(update, async (c) => {
    const body = c.req.valid('json');
    const url = body.url === undefined ? undefined : targetOf(c, body.url);
    const db = await c.var.db();
    const updated = await updateEndpoint(db, c.var.identity.accountId, c.req.valid('param').id, {
      url,
      events: body.events,
      format: body.format,
      description: body.description,
      enabled: body.enabled,
      rotateSecret: body.rotate_secret,
    });
    if (!updated) throw notFound('webhook');
    await publishFromRequest(c, db, [updated.notice]);
    const { row } = updated;
    return c.json({ ...webhookJson(row), ...(body.rotate_secret ? { secret: row.secret } : {}) }, 200);
  })
  .openapi(remove, async (c) => {
    const db = await c.var.db();
    const notice = await deleteEndpoint(db, c.var.identity.accountId, c.req.valid('param').id);
    if (!notice) throw notFound('webhook');
    await publishFromRequest(c, db, [notice]);
    return c.body(null, 204);
  })
  .openapi(deliveries, async (c) => {
    const { id } = c.req.valid('param');
    const { limit, cursor, status } = c.req.valid('query');
    const db = await c.var.db();
    if (!(await findEndpoint(db, c.var.identity.accountId, id))) throw notFound('webhook');
    const rows = await listDeliveries(db, id, { after: decodeCursor(cursor), limit: limit + 1, status });
    const { items, nextCursor } = page(rows, limit);
    return c.json({ items: items.map(deliveryJson), next_cursor: nextCursor }, 200);
  })
  .openapi(test, async (c) => {
    const { id } = c.req.valid('param');
    const accountId = c.var.identity.accountId;
    if (!(await findEndpoint(await c.var.db(), accountId, id))) throw notFound('webhook');
    const sent = await hubCall<TestResult>('testWebhook', () => hubFor(c.env, accountId).testWebhook(id));
    if (!sent.ok && sent.reason === 'throttled')
      throw tooManyRequests(
        'rate_limited',
        `at most ${TESTS_PER_MINUTE} tests per endpoint in any minute; try again in ${sent.retryAfterSeconds} s`,
        sent.retryAfterSeconds,
      );
    if (!sent.ok) throw notFound('webhook');
    return c.json({ event_id: sent.event_id, status: 'queued' as const }, 202);
  });
