import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { app } from '../worker/app';
import { EventLog } from '../worker/hub/event-log';
import { hubFor } from '../worker/hub/hub-client';
import { waitFor } from './escalation-helpers';
import { type CallOptions, call, json, type TestUser } from './helpers';
import { SseReader } from './sse';

/** The loopback server of test/setup/loopback-http.ts, allow-listed for http_get. */
export const httpBase = (env as unknown as { TEST_HTTP_URL: string }).TEST_HTTP_URL;

/**
 * The loopback server's request count for `key` (/count, /flaky): an effect outside the hub, so
 * it tells a node that ran twice, or a request that should never have gone out. Encoded because
 * the server reads the key as one path segment and decodes it.
 */
export async function countOf(key: string): Promise<number> {
  return (await json<{ n: number }>(await fetch(`${httpBase}/__count/${encodeURIComponent(key)}`))).n;
}

export interface RunView {
  id: string;
  status: string;
  state: Record<string, unknown>;
  final_state: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  paused: { node_id: string; prompt: string } | null;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
  active_ms: number | null;
  input: unknown;
  graph_id: string;
  graph_version: number;
  started_by: string;
  parent_run_id: string | null;
  from_node: string | null;
  reruns: number;
  retry: { node_id: string; attempt: number; next_attempt_at: string } | null;
}

export interface Started {
  run_id: string;
  status: string;
  stream_url: string;
}

/**
 * Calls the app with some settings overridden (limits, timeouts), as a deployment with other
 * vars would. Run limits and timeouts travel from the Worker to the hub with each request.
 */
export async function callWith(
  overrides: Record<string, string>,
  path: string,
  user: TestUser,
  opts: CallOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${user.token}`, ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const ctx = createExecutionContext();
  const res = await app.request(
    path,
    { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers, body },
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

export async function createGraph(user: TestUser, schema: unknown, name = `g-${crypto.randomUUID()}`) {
  const res = await call('/v1/graphs', user, { body: { name, schema } });
  if (res.status !== 201) throw new Error(`graph create failed: ${res.status} ${await res.text()}`);
  return json<{ id: string; name: string; version: number; schema: unknown }>(res);
}

export async function startRun(
  user: TestUser,
  graphId: string,
  input: Record<string, unknown> = {},
  overrides?: Record<string, string>,
): Promise<Started> {
  const path = `/v1/graphs/${graphId}/run`;
  const res = overrides
    ? await callWith(overrides, path, user, { body: { input } })
    : await call(path, user, { body: { input } });
  if (res.status !== 202) throw new Error(`run start failed: ${res.status} ${await res.text()}`);
  return json<Started>(res);
}

/** Creates the graph and starts a run of it. */
export async function runGraph(user: TestUser, schema: unknown, input: Record<string, unknown> = {}) {
  const graph = await createGraph(user, schema);
  return { graph, run: await startRun(user, graph.id, input) };
}

export async function openRunStream(user: TestUser, runId: string, lastEventId?: number): Promise<SseReader> {
  const res = await call(`/v1/runs/${runId}/stream`, user, {
    ...(lastEventId !== undefined ? { headers: { 'last-event-id': String(lastEventId) } } : {}),
  });
  if (res.status !== 200) throw new Error(`run stream failed: ${res.status} ${await res.text()}`);
  const reader = new SseReader(res);
  const first = await reader.next();
  if (first?.retry === undefined) throw new Error(`expected retry first, got ${JSON.stringify(first)}`);
  return reader;
}

export async function status(user: TestUser, runId: string): Promise<RunView> {
  const res = await call(`/v1/runs/${runId}/status`, user);
  if (res.status !== 200) throw new Error(`status failed: ${res.status} ${await res.text()}`);
  return json<RunView>(res);
}

export function waitForStatus(
  user: TestUser,
  runId: string,
  wanted: string,
  timeoutMs = 8_000,
): Promise<RunView> {
  return waitFor(
    async () => {
      const view = await status(user, runId);
      return view.status === wanted ? view : undefined;
    },
    `run ${runId} to be ${wanted}`,
    timeoutMs,
  );
}

/** The run's log as the hub stored it. */
export function runLog(user: TestUser, runId: string) {
  return runInDurableObject(hubFor(env, user.acct), (_hub, state) =>
    new EventLog(state.storage.sql).eventsAfter(`run:${runId}`),
  );
}

/** Reads events until the terminal one (or the bound). */
export async function readToEnd(reader: SseReader, timeoutMs = 8_000) {
  const frames = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = await reader.nextEvent(Math.max(1, deadline - Date.now()));
    if (!f) break;
    frames.push(f);
    if (f.event === 'graph_completed' || f.event === 'error') break;
  }
  return frames;
}

export const linearGraph = {
  entry: 'greet',
  nodes: [
    { id: 'greet', type: 'transform', set: { greeting: 'hello {{name}}' } },
    { id: 'shout', type: 'tool', tool: 'echo', args: { text: '{{greeting}}!' }, output_key: 'echoed' },
    { id: 'answer', type: 'llm', prompt: 'Reply to {{greeting}}', output_key: 'answer' },
  ],
  edges: [
    { from: 'greet', to: 'shout' },
    { from: 'shout', to: 'answer' },
    { from: 'answer', to: '__end__' },
  ],
};

export const humanGraph = {
  entry: 'ask',
  nodes: [
    { id: 'ask', type: 'human_input', prompt: 'Which product, {{name}}?', output_key: 'product' },
    { id: 'done', type: 'transform', set: { routed: true } },
  ],
  edges: [
    { from: 'ask', to: 'done' },
    { from: 'done', to: '__end__' },
  ],
};

/** One llm node that takes `ms` (abortably), for cancel, timeout and restart tests. */
export const slowGraph = (ms: number, nodes = 1) => ({
  entry: 'n0',
  nodes: Array.from({ length: nodes }, (_, i) => ({
    id: `n${i}`,
    type: 'llm',
    prompt: `step ${i} [[fake:delay=${ms}]]`,
    output_key: `out${i}`,
  })),
  edges: Array.from({ length: nodes }, (_, i) => ({
    from: `n${i}`,
    to: i + 1 < nodes ? `n${i + 1}` : '__end__',
  })),
});
