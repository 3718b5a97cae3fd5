import { createRouter, routesOf } from '../lib/openapi';
import { listPage } from '../lib/pagination';
import { AccountUserSchema } from '../schemas/users';
import { listUsers, userJson } from '../users/user-store';

const route = routesOf('Users');

const list = route.list('/', {
  summary: 'The account’s users, newest first',
  description:
    'Everyone who has used the account (users are created from their token on first use): whom a transfer or a policy level can name. Newest first by first use, `limit` (at most 200) per page and `cursor`, like every list.',
  item: AccountUserSchema,
  name: 'User',
  what: 'users',
});

export const userRoutes = createRouter().openapi(list, async (c) => {
  const db = await c.var.db();
  const accountId = c.var.identity.accountId;
  return c.json(await listPage(c.req.valid('query'), (w) => listUsers(db, accountId, w), userJson), 200);
});
