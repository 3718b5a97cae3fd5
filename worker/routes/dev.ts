import { Hono } from 'hono';
import { DEMO_ACCOUNT_ID, DEMO_USERS, type DevTokens } from '../dev/demo-users';
import { signToken } from '../dev/sign-token';
import type { AppEnv } from '../lib/app-env';
import { notFound } from '../lib/errors';

/** How long a token from the sign-in picker lasts. */
const DEV_TOKEN_TTL_SECONDS = 12 * 3600;

/**
 * Dev-only conveniences for the site's sign-in screen. Off (404, as if absent) unless DEV_MODE is
 * set, which `npm run dev` writes to `.dev.vars`; it also needs the HS256 secret to sign with.
 * Not part of the API, so not in its description.
 */
export const devRoutes = new Hono<AppEnv>().get('/tokens', async (c) => {
  const config = c.var.config;
  if (!config.DEV_MODE || !config.JWT_SECRET) {
    throw notFound(`route ${c.req.method} ${c.req.path}`);
  }
  const secret = config.JWT_SECRET;
  const users = await Promise.all(
    DEMO_USERS.map(async (u) => ({
      id: u.id,
      name: u.name,
      role: u.role,
      token: await signToken(
        { sub: u.id, acct: DEMO_ACCOUNT_ID, role: u.role, name: u.name },
        secret,
        DEV_TOKEN_TTL_SECONDS,
      ),
    })),
  );
  const answer: DevTokens = { account_id: DEMO_ACCOUNT_ID, users };
  return c.json(answer, 200, { 'cache-control': 'no-store' });
});
