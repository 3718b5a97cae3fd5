import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './app-env';
import { badRequest, payloadTooLarge, unsupportedMediaType } from './errors';
import { jsonDepth, unstorableText } from './json-safety';

export const MAX_BODY_BYTES = 64 * 1024;

// Deep enough for any real document; a hostile `[[[[…` would otherwise overflow the stack in
// validation or exceed Postgres' jsonb nesting limit later.
const MAX_JSON_DEPTH = 64;

/**
 * A body that is there must be JSON (anything else is a 415, not a confusing validation error),
 * no deeper than MAX_JSON_DEPTH, and storable: Postgres refuses U+0000 and unpaired surrogates,
 * which would otherwise fail far from the request (in a hub job writing run state, say).
 */
export const jsonOnly = createMiddleware<AppEnv>(async (c, next) => {
  const hasBody = c.req.header('content-length') !== undefined && c.req.header('content-length') !== '0';
  const chunked = c.req.header('transfer-encoding') !== undefined;
  if (['POST', 'PUT', 'PATCH'].includes(c.req.method) && (hasBody || chunked)) {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(type)) throw unsupportedMediaType();
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      // Malformed: the route's validator answers with malformed_json (Hono caches the parse).
      return next();
    }
    if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      throw badRequest('too_deep', `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels`);
    }
    const problem = unstorableText(body);
    if (problem) throw badRequest('invalid_text', problem);
  }
  await next();
});

export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw payloadTooLarge(MAX_BODY_BYTES);
  },
});
