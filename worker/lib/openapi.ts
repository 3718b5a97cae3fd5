import { createRoute, type Hook, OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { ACTING_ROLES } from '../contract/statuses';
import { IdParam, pageOf } from '../schemas/common';
import type { AppEnv, Role } from './app-env';
import { requireRole } from './auth';
import { type FieldIssue, validationFailed } from './errors';
import { pageQuery } from './pagination';

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

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call a route; any other role is refused with 403. Without it (on the route or its
 * resource), a read is open to every role of the account and a write to the acting roles only:
 * DESIGN's "a viewer reads", so a new write route cannot open itself to viewers by forgetting.
 */
type Roles = { roles?: readonly Role[] };

type RouteSpec = Omit<RouteConfig, 'method' | 'path' | 'responses' | 'tags' | 'middleware'> &
  Roles & {
    /** The success answers, e.g. `{ 201: jsonResponse(Schema, 'what it is') }`. */
    answers: RouteConfig['responses'];
    /** The route's own error statuses (409, 422, 429…); those its declaration implies are added. */
    errors?: readonly ErrorStatus[];
  };

/**
 * A path with `{id}` names a resource (`/runs/{id}`): the id is validated as a UUID (`IdParam`)
 * without each route saying so, and one not in the caller's account is a 404.
 */
const ID_IN_PATH = '{id}';
type IdParams<P extends string> = P extends `${string}{id}${string}` ? { params: typeof IdParam } : undefined;

/** What a route validates: its path's id and what its declaration asks for. */
type RequestOf<P extends string, S extends RouteSpec> = S extends { request: infer R extends object }
  ? IdParams<P> extends object
    ? IdParams<P> & R
    : R
  : IdParams<P>;

/**
 * The errors a declaration implies: any authenticated route may answer 401 and 503; one that
 * validates its request, 400; one with a JSON body, 413 and 415; one limited to roles (every
 * write is), 403; one whose path names a resource, 404.
 */
type ImpliedErrors<M extends Method, P extends string, S extends RouteSpec, D extends Roles> =
  | 401
  | 503
  | (RequestOf<P, S> extends object ? 400 : never)
  | (S extends { request: { body: object } } ? 413 | 415 : never)
  | (S extends { roles: readonly Role[] } ? 403 : never)
  | (D extends { roles: readonly Role[] } ? 403 : never)
  | (M extends 'get' ? never : 403)
  | (IdParams<P> extends object ? 404 : never);

function impliedErrors(
  request: RouteConfig['request'],
  roles: boolean,
  namesResource: boolean,
): ErrorStatus[] {
  return [
    401,
    503,
    ...(request ? ([400] as const) : []),
    ...(request?.body ? ([413, 415] as const) : []),
    ...(roles ? ([403] as const) : []),
    ...(namesResource ? ([404] as const) : []),
  ];
}

type OwnErrors<S extends RouteSpec> = S extends { errors: readonly (infer E extends ErrorStatus)[] }
  ? E
  : never;
type Declared<M extends Method, P extends string, S extends RouteSpec, D extends Roles> = Omit<
  S,
  'answers' | 'errors' | 'roles' | 'request'
> & {
  method: M;
  path: P;
  request: RequestOf<P, S>;
  middleware?: MiddlewareHandler<AppEnv>;
  tags: string[];
  responses: S['answers'] & ErrorResponses<ImpliedErrors<M, P, S, D> | OwnErrors<S>>;
};

/**
 * `createRoute` for one resource's routes, Hono-style (`route.get(path, spec)`): the tag is the
 * resource's, a path's `{id}` is validated, `roles` (the route's, else the resource's) becomes the
 * role check, and the error answers the declaration implies are added to the route's own.
 */
export function routesOf<const D extends Roles = Roles>(tag: string, resource?: D) {
  const declare =
    <const M extends Method>(method: M) =>
    <const P extends string, const S extends RouteSpec>(path: P, spec: S) => {
      const { answers, errors = [], roles: own, request: asked, ...config } = spec;
      const roles = own ?? resource?.roles ?? (method === 'get' ? undefined : ACTING_ROLES);
      const namesResource = path.includes(ID_IN_PATH);
      const request = namesResource ? { params: IdParam, ...asked } : asked;
      const statuses = [...impliedErrors(request, roles !== undefined, namesResource), ...errors];
      // The spread loses what TypeScript knew of each key; the declared type restores it.
      const declared = {
        method,
        path,
        ...config,
        ...(request ? { request } : {}),
        ...(roles ? { middleware: requireRole(...roles) } : {}),
        tags: [tag],
        responses: { ...answers, ...errorResponses(...statuses) },
      };
      return createRoute(declared as unknown as Declared<M, P, S, D>);
    };
  const get = declare('get');
  return {
    get,
    post: declare('post'),
    put: declare('put'),
    patch: declare('patch'),
    delete: declare('delete'),
    /**
     * A list as every list of the API is (DESIGN "HTTP API"): newest first, `limit` and `cursor`
     * (`pageQuery`, or a query that adds filters to it), answered with one page of `item`s, named
     * `<name>Page` in the document.
     */
    list: <const P extends string, T extends z.ZodType, Q extends typeof pageQuery = typeof pageQuery>(
      path: P,
      spec: { summary: string; description?: string; item: T; name: string; what: string; query?: Q },
    ) =>
      get(path, {
        summary: spec.summary,
        ...(spec.description === undefined ? {} : { description: spec.description }),
        request: { query: (spec.query ?? pageQuery) as Q },
        answers: {
          200: jsonResponse(pageOf(spec.item).openapi(`${spec.name}Page`), `One page of ${spec.what}`),
        },
      }),
    /**
     * An event stream as every stream of the API is (DESIGN "Event streams"): Server-Sent Events
     * for the acting roles, resumed from `Last-Event-ID`, 429 past `MAX_STREAMS_PER_USER`.
     */
    stream: <const P extends string>(path: P, spec: { summary: string; description: string }) =>
      get(path, {
        ...spec,
        roles: ACTING_ROLES,
        request: lastEventIdDoc,
        answers: { 200: eventStreamResponse('Server-Sent Events') },
        errors: [429],
      }),
  };
}
