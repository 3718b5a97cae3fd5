import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { demoStatus } from '../dev/demo-graphs';
import { seedDemoAccount } from '../dev/demo-seed';
import { DEMO_ACCOUNT_ID, DEMO_USERS, type DevTokens } from '../dev/demo-users';
import { signToken } from '../dev/sign-token';
import type { AppEnv } from '../lib/app-env';
import { jsonOnly, limitBody } from '../lib/body-guards';
import { canonicalUuid } from '../lib/canonical-uuid';
import { database } from '../lib/database';
import { malformedJson, notFound, validationFailed } from '../lib/errors';
import { isTimeZone } from '../lib/time-zone';

/** How long a token from the sign-in picker lasts. */
const DEV_TOKEN_TTL_SECONDS = 12 * 3600;

/** Every dev route is off (404, as if absent) unless DEV_MODE is set. */
const devOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.var.config.DEV_MODE) throw notFound(`route ${c.req.method} ${c.req.path}`);
  await next();
});

const SeedBody = z.strictObject({
  account_id: z
    .string()
    .transform((v, ctx) => {
      const id = canonicalUuid(v);
      if (!id) ctx.addIssue({ code: 'custom', message: 'must be a UUID' });
      return id ?? z.NEVER;
    })
    .optional(),
  if_empty: z.boolean().default(false),
  tz: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris').default('UTC'),
  status_url: z
    .url({ protocol: /^https?$/ })
    .max(500)
    .optional(),
});

/**
 * Dev-only conveniences: the sign-in screen's tokens, the demo seed and the status page its
 * graph reads. Off (404, as if absent) unless DEV_MODE is set, which `npm run dev` writes to
 * `.dev.vars`. Not part of the API, so not in its description.
 */
export const devRoutes = new Hono<AppEnv>();

devRoutes.use('*', devOnly);

devRoutes.get('/tokens', async (c) => {
  const config = c.var.config;
  if (!config.JWT_SECRET) throw notFound(`route ${c.req.method} ${c.req.path}`);
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

/**
 * Seeds an account (the demo account unless `account_id` names another) with a week of history
 * (docs/demo.md): 201 with what it made, or 200 `{seeded: false, reason}` when the account was
 * seeded already or, with `if_empty`, has data. `npm run dev` and `npm run seed` call it.
 */
devRoutes.post('/seed', limitBody, jsonOnly, database, async (c) => {
  let raw: unknown = {};
  if (c.req.header('content-length') !== '0' && c.req.header('content-type')) {
    try {
      raw = await c.req.json();
    } catch {
      throw malformedJson('the body is not valid JSON');
    }
  }
  const parsed = SeedBody.safeParse(raw);
  if (!parsed.success) {
    throw validationFailed(
      'body',
      parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || 'body', message: i.message })),
    );
  }
  const body = parsed.data;
  const result = await seedDemoAccount(c.env, await c.var.db(), c.var.config, {
    accountId: body.account_id ?? DEMO_ACCOUNT_ID,
    tz: body.tz,
    ifEmpty: body.if_empty,
    // The status page below, on the address this request came to, unless told otherwise.
    statusUrl: body.status_url ?? `${new URL(c.req.url).origin}/dev/demo-status`,
  });
  return c.json(result, result.seeded ? 201 : 200, { 'cache-control': 'no-store' });
});

/** The demo status page the "Check the status page" graph reads with `http_get`. */
devRoutes.get('/demo-status/:product', (c) => {
  const { status, body } = demoStatus(c.req.param('product'));
  return c.json(body, status, { 'cache-control': 'no-store' });
});
