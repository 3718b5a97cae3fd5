import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConfigError } from '../config';
import { dbErrorKind, isDatabaseError, sqlState } from '../db/client';
import type { AppEnv } from './app-env';
import { ApiError, type ErrorBody } from './errors';
import { log } from './log';

const codeByStatus: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

function body(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

function render(
  c: Context<AppEnv>,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details?: unknown,
  headers?: Record<string, string>,
) {
  return c.json(body(code, message, details), status, headers);
}

/** Postgres errors by SQLSTATE: a constraint is a conflict, a resource problem is a 503. */
function renderDatabaseError(c: Context<AppEnv>, err: unknown) {
  const state = sqlState(err);
  const kind = dbErrorKind(err);
  if (state === '23505') return render(c, 409, 'conflict', 'a conflicting record already exists');
  if (state === '23503') return render(c, 409, 'conflict', 'a referenced record does not exist');
  if (kind === 'refused_value')
    return render(c, 400, 'bad_request', 'a value was not accepted by the database');
  if (kind === 'unavailable') {
    log('warn', 'database unavailable', { path: c.req.path, err, sqlstate: state });
    return render(
      c,
      503,
      'database_unavailable',
      'the database is unavailable; nothing was written, try again',
      undefined,
      {
        'Retry-After': '2',
      },
    );
  }
  log('error', 'unexpected database error', { path: c.req.path, err, sqlstate: state });
  return render(c, 500, 'internal', 'internal error');
}

/**
 * Errors from a Durable Object call (the object was reset, overloaded or unreachable) carry
 * these flags; they are infrastructure trouble, not bugs, and the client should retry.
 */
function isDurableObjectError(err: Error): boolean {
  return 'retryable' in err || 'overloaded' in err || ('remote' in err && err.remote === true);
}

/** The one place where anything thrown becomes the JSON error of DESIGN.md. */
export function onError(err: Error, c: Context<AppEnv>) {
  if (err instanceof ApiError) {
    return render(c, err.status as ContentfulStatusCode, err.code, err.message, err.details, err.headers);
  }
  if (err instanceof HTTPException) {
    // Hono's own middleware (jwt, body limit, validator): keep its status, use our shape.
    const status = err.status as ContentfulStatusCode;
    const code =
      status === 400 && /json/i.test(err.message) ? 'malformed_json' : (codeByStatus[status] ?? 'error');
    return render(c, status, code, err.message || code);
  }
  if (err instanceof ConfigError) {
    log('error', 'configuration invalid', { issues: err.issues });
    return render(c, 503, 'misconfigured', err.message);
  }
  if (isDatabaseError(err)) return renderDatabaseError(c, err);
  if (isDurableObjectError(err)) {
    log('warn', 'account hub unavailable', { path: c.req.path, err });
    return render(c, 503, 'hub_unavailable', 'the account hub is unavailable; try again', undefined, {
      'Retry-After': '1',
    });
  }
  log('error', 'unhandled error', { path: c.req.path, method: c.req.method, err, stack: err.stack });
  return render(c, 500, 'internal', 'internal error');
}
