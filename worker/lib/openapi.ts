import { createRoute, type Hook, OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi';
import type { AppEnv } from './app-env';
import { type FieldIssue, validationFailed } from './errors';

// The pieces every router uses to declare its routes with @hono/zod-openapi: one zod schema both
// validates a request and describes it in /openapi.json.

/** Failed validation is our 400 `validation_failed`, naming each field; routes see only valid input. */
export const validationHook: Hook<unknown, AppEnv, string, undefined> = (result) => {
  if (result.success) return undefined;
  const details: FieldIssue[] = result.error.issues.map((i) => ({
    field: i.path.map(String).join('.') || result.target,
    message: i.message,
  }));
  throw validationFailed(result.target, details);
};

/** A router of one resource; its routes land in the app's OpenAPI document when it is mounted. */
export const createRouter = () => new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z
        .string()
        .openapi({ description: 'snake_case, stable: what a client switches on', example: 'not_found' }),
      message: z.string().openapi({ description: 'for people; may change' }),
      details: z
        .unknown()
        .optional()
        .openapi({ description: 'for `validation_failed`, `[{field, message}]`; otherwise code-specific' }),
    }),
  })
  .openapi('Error');

const ERROR_MEANING = {
  400: 'Malformed JSON (`malformed_json`) or failed validation (`validation_failed`, details list the fields)',
  401: 'No valid bearer token',
  403: 'The role may not do this',
  404: 'Not found in the caller’s account',
  409: 'The resource’s state refuses the request',
  413: 'The body is over its limit',
  415: 'The body is not JSON',
  422: 'The request cannot be processed as it stands (e.g. `idempotency_key_reused`)',
  429: 'Over a limit; `Retry-After` says when to retry',
  503: 'A dependency (Postgres, the account hub) is unavailable; nothing was half-written; `Retry-After`',
} as const;
type ErrorStatus = keyof typeof ERROR_MEANING;

const retryAfterHeader = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' as const } },
};

const errorResponse = <S extends ErrorStatus>(status: S) => ({
  description: ERROR_MEANING[status],
  ...(status === 429 || status === 503 ? { headers: retryAfterHeader } : {}),
  content: { 'application/json': { schema: ErrorSchema } },
});

type ErrorResponses<S extends ErrorStatus> = { [K in S]: ReturnType<typeof errorResponse<K>> };

/** The error answers a route may give, each in the common error shape. */
export function errorResponses<const S extends ErrorStatus[]>(...statuses: S): ErrorResponses<S[number]> {
  return Object.fromEntries(statuses.map((s) => [s, errorResponse(s)])) as ErrorResponses<S[number]>;
}

/** What every authenticated route may answer besides its own errors. */
export const AUTHENTICATED_ERRORS = [401, 503] as const;
/** What a route with a JSON body may also answer. */
export const BODY_ERRORS = [400, 413, 415] as const;

/** A JSON answer. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** A JSON request body; `required`, so a body-less request is validated as `{}` rather than skipped. */
export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true,
  ...(description ? { description } : {}),
  content: { 'application/json': { schema } },
});

/** A Server-Sent Events answer (DESIGN.md "Event streams"). */
export const eventStreamResponse = (description: string) => ({
  description,
  content: {
    'text/event-stream': {
      schema: z.string().openapi({
        description:
          'SSE frames: `retry: <ms>` first, then `id: <n>`, `event: <type>`, `data: <JSON>`; `: keepalive` comments',
      }),
    },
  },
});

/** `Last-Event-ID`, header or query: where a stream resumes. */
export const lastEventIdDoc = {
  headers: z.object({
    'last-event-id': z
      .string()
      .optional()
      .openapi({ description: 'Resume after this event id (replays what follows, then goes live)' }),
  }),
  query: z.object({
    last_event_id: z.string().optional().openapi({ description: 'Like the Last-Event-ID header' }),
  }),
};

type BodyErrors<Req> = Req extends { body: unknown } ? (typeof BODY_ERRORS)[number] : never;
type RouteSpec = Omit<RouteConfig, 'responses' | 'tags'> & {
  /** The success answers, e.g. `{ 201: jsonResponse(Schema, 'what it is') }`. */
  answers: RouteConfig['responses'];
  /** The route's own error statuses; 401 and 503 (and 400, 413, 415 with a body) are added. */
  errors: readonly ErrorStatus[];
};
type Declared<S extends RouteSpec> = Omit<S, 'answers' | 'errors'> & {
  tags: string[];
  responses: S['answers'] &
    ErrorResponses<S['errors'][number] | (typeof AUTHENTICATED_ERRORS)[number] | BodyErrors<S['request']>>;
};

/**
 * `createRoute` for one resource's routes: the tag is the resource's, and every route gets the
 * error answers any authenticated route may give, plus the body errors when it takes a body.
 */
export const routesOf =
  (tag: string) =>
  <const P extends string, const S extends RouteSpec & { path: P }>(spec: S) => {
    const { answers, errors, ...config } = spec;
    const statuses = [...AUTHENTICATED_ERRORS, ...(config.request?.body ? BODY_ERRORS : []), ...errors];
    // The spread loses what TypeScript knew of each key; the declared type restores it.
    const declared = { ...config, tags: [tag], responses: { ...answers, ...errorResponses(...statuses) } };
    return createRoute(declared as unknown as Declared<S> & { path: P });
  };
