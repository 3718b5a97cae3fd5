import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** One failing field of a request, as `validation_failed` details list them. */
export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * The one error type routes throw. `onError` renders it as the JSON error of DESIGN.md.
 * It is an HTTPException so Hono's own middleware (body limit, validators) fits the same path.
 * Build it with the constructors below, one per error code, so a code always comes with the
 * same status, the same kind of message and the same headers wherever it is raised.
 */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(status, { message });
  }
}

/** How long a client should wait before retrying when a dependency is briefly unavailable. */
const DEPENDENCY_RETRY_AFTER_SECONDS = 2;

const retryAfter = (seconds: number) => ({ 'Retry-After': String(Math.max(1, Math.ceil(seconds))) });

// ── 400 ─────────────────────────────────────────────────────────────────────────────────────

export const malformedJson = (message: string) => new ApiError(400, 'malformed_json', message);

/** The fields of `where` (body, query, param, header…) that failed, each with its reason. */
export function validationFailed(where: string, details: FieldIssue[]): ApiError {
  const fields = [...new Set(details.map((d) => d.field))].join(', ');
  return new ApiError(400, 'validation_failed', `invalid ${where}: ${fields}`, details);
}

/** Well-formed JSON, yet not usable: too deep, text Postgres refuses, a graph that does not hold together. */
export type BadRequestCode =
  | 'bad_request'
  | 'too_deep'
  | 'invalid_text'
  | 'invalid_graph'
  | 'invalid_url'
  /** A rerun's `from_node` is not a node of the run's graph, or the run never reached it. */
  | 'unknown_node'
  | 'node_not_reached'
  | 'state_too_large';
export const badRequest = (code: BadRequestCode, message: string, details?: FieldIssue[]) =>
  new ApiError(400, code, message, details);

// ── 401, 403, 404 ───────────────────────────────────────────────────────────────────────────

export const unauthorized = (message: string) =>
  new ApiError(401, 'unauthorized', message, undefined, { 'WWW-Authenticate': 'Bearer' });

export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);

/** Also what another account's resource answers: existence does not leak across accounts. */
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

// ── 409: the request is fine, the resource's state refuses it ──────────────────────────────

export type ConflictCode =
  | 'conflict'
  | 'already_picked_up'
  | 'invalid_state'
  | 'session_full'
  | 'not_paused'
  | 'run_ended'
  | 'limit_reached'
  /** Only a finished run can be rerun. */
  | 'run_active'
  /** A rerun from a node of a run that ended more than 7 days ago. */
  | 'checkpoints_expired';
export const conflict = (code: ConflictCode, message: string, details?: unknown) =>
  new ApiError(409, code, message, details);

// ── 422: the request is well-formed, but cannot be processed as it stands ────────────────

/**
 * An `Idempotency-Key` the caller already used with another body (the IETF Idempotency-Key
 * draft's status for it): the key stays bound to its first request for as long as it is kept.
 */
export const idempotencyKeyReused = () =>
  new ApiError(
    422,
    'idempotency_key_reused',
    'this Idempotency-Key was used for a different request; use a new key for a new request',
  );

// ── 413, 415, 429 ───────────────────────────────────────────────────────────────────────────

export const payloadTooLarge = (maxBytes: number) =>
  new ApiError(413, 'payload_too_large', `request body is over ${maxBytes} bytes`);

export const unsupportedMediaType = (message = 'request bodies must be application/json') =>
  new ApiError(415, 'unsupported_media_type', message);

export type TooManyRequestsCode =
  | 'too_many_runs'
  | 'too_many_paused_runs'
  | 'too_many_streams'
  | 'too_many_handoffs'
  | 'rate_limited';
/** Every limit says when to come back. */
export const tooManyRequests = (
  code: TooManyRequestsCode,
  message: string,
  retryAfterSeconds: number,
  details?: unknown,
) => new ApiError(429, code, message, details, retryAfter(retryAfterSeconds));

// ── 500, 503 ────────────────────────────────────────────────────────────────────────────────

/** Never with the cause's text: internal details stay in the log, under the request id. */
export const internalError = (requestId?: string) =>
  new ApiError(
    500,
    'internal',
    requestId ? `internal error; the log has the details under request id ${requestId}` : 'internal error',
  );

export const hubUnavailable = () =>
  new ApiError(
    503,
    'hub_unavailable',
    'the account hub is unavailable; try again',
    undefined,
    retryAfter(DEPENDENCY_RETRY_AFTER_SECONDS),
  );

export const databaseUnavailable = () =>
  new ApiError(
    503,
    'database_unavailable',
    'the database is unavailable; nothing was written, try again',
    undefined,
    retryAfter(DEPENDENCY_RETRY_AFTER_SECONDS),
  );

export const identityProviderUnavailable = (message: string) =>
  new ApiError(503, 'identity_provider_unavailable', message);

export const misconfigured = (message: string) => new ApiError(503, 'misconfigured', message);
