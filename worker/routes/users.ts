import { createRouter, jsonResponse, routesOf } from '../lib/openapi';
import { UserListSchema } from '../schemas/users';
import { listUsers } from '../users/user-store';

const route = routesOf('Users');

const list = route({
  method: 'get',
  path: '/',
  summary: 'The account’s users',
  description:
    'Everyone who has used the account (users are created from their token on first use): whom a transfer or a policy level can name.',
  answers: { 200: jsonResponse(UserListSchema, 'Up to 1,000 users, by name') },
  errors: [],
});

export const userRoutes = createRouter().openapi(list, async (c) =>
  c.json({ items: await listUsers(await c.var.db(), c.var.identity.accountId) }, 200),
);
