import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { getConfig } from './config';
import type { AppEnv } from './lib/app-env';
import { authenticate } from './lib/auth';
import { database } from './lib/database';
import { ApiError } from './lib/errors';
import { jsonDepth, unstorableText } from './lib/json-safety';
import { setLogLevel } from './lib/log';
import { onError } from './lib/on-error';
import { devRoutes } from './routes/dev';
import { escalationRoutes } from './routes/escalations';
import { graphRoutes } from './routes/graphs';
import { handoffRoutes } from './routes/handoffs';
import { health } from './routes/health';
import { runRoutes } from './routes/runs';
import { sessionRoutes } from './routes/sessions';

export const MAX_BODY_BYTES = 64 * 1024;

const withConfig = createMiddleware<AppEnv>(async (c, next) => {
  const config = getConfig(c.env);
  setLogLevel(config.LOG_LEVEL);
  c.set('config', config);
  await next();
});

// Deep enough for any real document; a hostile `[[[[…` would otherwise overflow the stack in
// validation or exceed Postgres' jsonb nesting limit later.
const MAX_JSON_DEPTH = 64;

/**
 * A body that is there must be JSON (anything else is a 415, not a confusing validation error),
 * no deeper than MAX_JSON_DEPTH, and storable: Postgres refuses U+0000 and unpaired surrogates,
 * which would otherwise fail far from the request (in a hub job writing run state, say).
 */
const jsonOnly = createMiddleware<AppEnv>(async (c, next) => {
  const hasBody = c.req.header('content-length') !== undefined && c.req.header('content-length') !== '0';
  const chunked = c.req.header('transfer-encoding') !== undefined;
  if (['POST', 'PUT', 'PATCH'].includes(c.req.method) && (hasBody || chunked)) {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(type)) {
      throw new ApiError(415, 'unsupported_media_type', 'request bodies must be application/json');
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      // Malformed: the route's validator answers with malformed_json (Hono caches the parse).
      return next();
    }
    if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      throw new ApiError(400, 'too_deep', `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels`);
    }
    const problem = unstorableText(body);
    if (problem) throw new ApiError(400, 'invalid_text', problem);
  }
  await next();
});

const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new ApiError(413, 'payload_too_large', `request body is over ${MAX_BODY_BYTES} bytes`);
  },
});

export const app = new Hono<AppEnv>()
  .onError(onError)
  .notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  )
  .use(withConfig)
  .route('/healthz', health)
  .route('/dev', devRoutes)
  .use('/v1/*', limitBody, jsonOnly, authenticate, database)
  .route('/v1/sessions', sessionRoutes)
  .route('/v1', handoffRoutes)
  .route('/v1/escalations', escalationRoutes)
  .route('/v1/graphs', graphRoutes)
  .route('/v1', runRoutes);
