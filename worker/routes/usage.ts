import { createRouter, jsonResponse, routesOf } from '../lib/openapi';
import { UsageQuery, UsageSchema } from '../schemas/usage';
import { accountUsage } from '../usage/account-usage';

const route = routesOf('Usage');

const usage = route.get('/', {
  summary: 'What the account used, per day (admins)',
  description:
    'Counted by the account hub in memory and added to a Postgres roll-up at most once a minute; the counts not yet flushed are included, so the answer is current.',
  roles: ['admin'],
  request: { query: UsageQuery },
  answers: { 200: jsonResponse(UsageSchema, 'Subscribers now, the days of the range, the hub’s storage') },
});

export const usageRoutes = createRouter().openapi(usage, async (c) => {
  const { from, to } = c.req.valid('query');
  return c.json(await accountUsage(c.env, await c.var.db(), c.var.identity.accountId, from, to), 200);
});
