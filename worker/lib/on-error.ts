import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConfigError } from '../config';
import { dbErrorKind, isDatabaseError, sqlState } from '../db/client';
import type { AppEnv } from './app-env';
import {
  ApiError,
  badRequest,
  conflict,
  databaseUnavailable,
  type ErrorBody,
  forbidden,
  hubUnavailable,
  internalError,
  malformedJson,
  misconfigured,
  unauthorized,
  unsupportedMediaType,
} from './errors';
import { log } from './log';

// The codes of statuses that only Hono's own middleware raises without a code of ours.
const codeByStatus: Record<number, string> = {
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  429: 'rate_limited',
  503: 'service_unavailable',
};

function render(c: Context<AppEnv>, err: ApiError) {
  const error = { code: err.code, message: err.message };
  const body: ErrorBody = { error: err.details === undefined ? error : { ...error, details: err.details } };
  return c.json(body, err.status as ContentfulStatusCode, err.headers);
}

/** Where a logged failure happened: the request id the answer carries lets anyone find it. */
const where = (c: Context<AppEnv>) => ({
  requestId: c.var.requestId,
  method: c.req.method,
  path: c.req.path,
});

/** Postgres errors by SQLSTATE: a constraint is a conflict, a resource problem is a 503. */
function databaseError(c: Context<AppEnv>, err: unknown): ApiError {
  const state = sqlState(err);
  if (state === '23505') return conflict('conflict', 'a conflicting record already exists');
  if (state === '23503') return conflict('conflict', 'a referenced record does not exist');
  const kind = dbErrorKind(err);
  if (kind === 'refused_value') return badRequest('bad_request', 'a value was not accepted by the database');
  if (kind === 'unavailable') {
    log('warn', 'database unavailable', { ...where(c), err, sqlstate: state });
    return databaseUnavailable();
  }
  log('error', 'unexpected database error', { ...where(c), err, sqlstate: state });
  return internalError(c.var.requestId);
}

/** Hono's own middleware (jwt, body limit, validators) throws HTTPException: keep its status, use our shape. */
function fromHttpException(err: HTTPException): ApiError {
  const status = err.status as ContentfulStatusCode;
  if (status === 400)
    return /json/i.test(err.message) ? malformedJson(err.message) : badRequest('bad_request', err.message);
  if (status === 401) return unauthorized(err.message);
  if (status === 403) return forbidden(err.message);
  if (status === 415) return unsupportedMediaType();
  const code = codeByStatus[status] ?? 'error';
  return new ApiError(status, code, err.message || code);
}

/**
 * Errors from a Durable Object call (the object was reset, overloaded or unreachable) carry
 * these flags; they are infrastructure trouble, not bugs, and the client should retry.
 */
function isDurableObjectError(err: Error): boolean {
  return 'retryable' in err || 'overloaded' in err || ('remote' in err && err.remote === true);
}

function toApiError(err: Error, c: Context<AppEnv>): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) return fromHttpException(err);
  if (err instanceof ConfigError) {
    log('error', 'configuration invalid', { ...where(c), issues: err.issues });
    return misconfigured(err.message);
  }
  if (isDatabaseError(err)) return databaseError(c, err);
  if (isDurableObjectError(err)) {
    log('warn', 'account hub unavailable', { ...where(c), err });
    return hubUnavailable();
  }
  log('error', 'unhandled error', { ...where(c), err, stack: err.stack });
  return internalError(c.var.requestId);
}

/** The one place where anything thrown becomes the JSON error of DESIGN.md. */
export function onError(err: Error, c: Context<AppEnv>) {
  return render(c, toApiError(err, c));
}
