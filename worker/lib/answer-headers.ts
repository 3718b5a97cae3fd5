import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from './app-env';
import { withLogContext } from './log';

// What every answer of the Worker carries (DESIGN.md "Limits and hardening"): its request id, and
// the security headers. The site's own pages are static assets served without the Worker; their
// headers, the site's Content-Security-Policy included, are in web/public/_headers.

/** An incoming id is kept when it is this plain: it lands in logs and in the answer as is. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:=-]{1,128}$/;

export function requestIdOf(incoming: string | undefined): string {
  return incoming !== undefined && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}

const common = {
  xContentTypeOptions: 'nosniff',
  referrerPolicy: 'no-referrer',
  xFrameOptions: 'DENY',
} as const;

/** JSON and event streams: nothing in them may load or frame anything. */
const apiHeaders = secureHeaders({
  ...common,
  contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
});

/**
 * The API reference (`/docs`) runs Scalar's script from a CDN with an inline configuration, so it
 * only gets `frame-ancestors`; it shows the public API description and holds no token.
 */
const docsHeaders = secureHeaders({ ...common, contentSecurityPolicy: { frameAncestors: ["'none'"] } });

function headersWritable(res: Response): boolean {
  try {
    res.headers.set('X-Request-Id', '');
    return true;
  } catch {
    return false;
  }
}

export const answerHeaders = createMiddleware<AppEnv>(async (c, next) => {
  const id = requestIdOf(c.req.header('x-request-id'));
  c.set('requestId', id);
  const security = c.req.path === '/docs' ? docsHeaders : apiHeaders;
  await security(c, async () => {
    // Every line logged while answering (and by what the answer leaves to waitUntil) names it.
    await withLogContext({ requestId: id }, next);
    // An answer built elsewhere (a fetch's) may have immutable headers: copy it to add ours.
    if (!headersWritable(c.res)) c.res = new Response(c.res.body, c.res);
    c.res.headers.set('X-Request-Id', id);
  });
});
