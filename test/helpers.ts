import { env, exports } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { getConfig } from '../worker/config';
import { openDb } from '../worker/db/client';

export const JWT_SECRET = 'test-secret-0123456789abcdef';

export interface TestUser {
  sub: string;
  acct: string;
  role: 'engineer' | 'admin' | 'viewer';
  name: string;
  token: string;
}

/** A signed token for a user; by default a fresh account, so tests never share state. */
export async function makeUser(
  opts: Partial<Omit<TestUser, 'token'>> & { exp?: number; secret?: string } = {},
): Promise<TestUser> {
  const claims = {
    sub: opts.sub ?? crypto.randomUUID(),
    acct: opts.acct ?? crypto.randomUUID(),
    role: opts.role ?? 'engineer',
    name: opts.name ?? 'Test User',
  };
  const exp = opts.exp ?? Math.floor(Date.now() / 1000) + 3600;
  const token = await sign({ ...claims, exp }, opts.secret ?? JWT_SECRET, 'HS256');
  return { ...claims, token };
}

/** A second user of the same account. */
export const colleague = (of: TestUser, role: TestUser['role'] = 'engineer', name = 'Colleague') =>
  makeUser({ acct: of.acct, role, name });

export interface CallOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Calls the Worker as a client would, through its real fetch handler. */
export function call(
  path: string,
  user: TestUser | string | null,
  opts: CallOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = typeof user === 'string' ? user : user?.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  return exports.default.fetch(
    new Request(`http://switchboard.test${path}`, {
      method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      signal: opts.signal,
    }),
  );
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Expects the JSON error shape of DESIGN.md and returns its body. */
export async function expectError(res: Response, status: number, code?: string) {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  const body = JSON.parse(text) as { error: { code: string; message: string; details?: unknown } };
  if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') {
    throw new Error(`not the JSON error shape: ${text}`);
  }
  if (code && body.error.code !== code)
    throw new Error(`expected code ${code}, got ${body.error.code}: ${text}`);
  return body.error;
}

export async function createSession(user: TestUser, overrides: Record<string, unknown> = {}) {
  const res = await call('/v1/sessions', user, {
    body: { title: 'VPN drops', problem_summary: 'The VPN drops every five minutes', ...overrides },
  });
  if (res.status !== 201) throw new Error(`session create failed: ${res.status} ${await res.text()}`);
  return json<{ id: string; title: string }>(res);
}

/** Runs `fn` on a connection of its own to the test Postgres, closed whatever `fn` does. */
export async function withDb<T>(fn: (db: ReturnType<typeof openDb>['db']) => Promise<T>): Promise<T> {
  const { db, close } = openDb(getConfig(env));
  try {
    return await fn(db);
  } finally {
    await close();
  }
}

export interface UsageTotals {
  events_published: number;
  deliveries: number;
  runs_started: number;
  nodes_executed: number;
  llm_tokens: { prompt: number; completion: number };
  webhook_deliveries: number;
  hub_wakeups: number;
}

/** The account's usage so far (`GET /v1/usage`, which counts what is not yet flushed), summed over the days. */
export async function usageTotals(user: TestUser): Promise<UsageTotals> {
  const admin = user.role === 'admin' ? user : await colleague(user, 'admin', 'Usage Reader');
  const res = await call('/v1/usage', admin);
  if (res.status !== 200) throw new Error(`usage failed: ${res.status} ${await res.text()}`);
  const { per_day } = await json<{ per_day: UsageTotals[] }>(res);
  const total: UsageTotals = {
    events_published: 0,
    deliveries: 0,
    runs_started: 0,
    nodes_executed: 0,
    llm_tokens: { prompt: 0, completion: 0 },
    webhook_deliveries: 0,
    hub_wakeups: 0,
  };
  for (const d of per_day) {
    total.events_published += d.events_published;
    total.deliveries += d.deliveries;
    total.runs_started += d.runs_started;
    total.nodes_executed += d.nodes_executed;
    total.llm_tokens.prompt += d.llm_tokens.prompt;
    total.llm_tokens.completion += d.llm_tokens.completion;
    total.webhook_deliveries += d.webhook_deliveries;
    total.hub_wakeups += d.hub_wakeups;
  }
  return total;
}
