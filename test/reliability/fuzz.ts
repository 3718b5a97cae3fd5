// Bad input: property-based fuzzing (fast-check) of every endpoint's body, params, query and
// headers, plus oversize bodies, malformed Last-Event-ID, forged / expired / alg:none tokens and
// other accounts' ids. Never a 500; every error is the JSON error of DESIGN.md.

import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import fc from 'fast-check';
import { agent, readBody } from '../../bench/lib/http';
import { signToken } from '../../worker/dev/sign-token';
import { internalTextIn } from '../internal-text';
import type { Stack } from './stack';

export interface Probe {
  status: number;
  json: unknown;
  text: string;
  sse: boolean;
  headers: Record<string, string | string[] | undefined>;
}

/** One request; a 200 event stream is closed as soon as its headers arrive. */
export function probe(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined) h['content-length'] = String(Buffer.byteLength(body));
    const req = request(`${base}${path}`, { method, headers: h, agent }, (res) => {
      const sse = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
      if (sse) {
        res.destroy();
        resolve({ status: res.statusCode ?? 0, json: undefined, text: '', sse, headers: res.headers });
        return;
      }
      readBody(res).then(
        ({ text, json }) => resolve({ status: res.statusCode ?? 0, json, text, sse, headers: res.headers }),
        reject,
      );
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`timeout ${method} ${path}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The graph behind the fuzzers' graph and run ids: its run waits at its one node for input, so stays. */
export const FUZZ_GRAPH = {
  name: 'fuzz',
  schema: {
    entry: 'a',
    nodes: [{ id: 'a', type: 'human_input', prompt: 'x?', output_key: 'x' }],
    edges: [{ from: 'a', to: '__end__' }],
  },
};

export interface FuzzIds {
  sessionId: string;
  handoffId: string;
  graphId?: string;
  runId?: string;
}

export interface FuzzResult {
  requests: number;
  /** Error answers holding internal text (driver, SQLite, stack). */
  leaks: number;
  failures: string[];
  statuses: Map<number, number>;
  categories: Map<string, number>;
}

const isJsonError = (j: unknown) => {
  const e = (j as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return typeof e?.code === 'string' && typeof e?.message === 'string';
};

export async function fuzz(
  stack: Stack,
  token: string,
  ids: FuzzIds,
  otherToken: string,
  runs: number,
): Promise<FuzzResult> {
  const result: FuzzResult = {
    requests: 0,
    leaks: 0,
    failures: [],
    statuses: new Map(),
    categories: new Map(),
  };
  const check = async (
    category: string,
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string | Buffer,
    expect?: (p: Probe) => string | undefined,
  ) => {
    result.requests++;
    result.categories.set(category, (result.categories.get(category) ?? 0) + 1);
    let p: Probe;
    try {
      p = await probe(stack.url, method, path, headers, body);
    } catch (err) {
      // The server may refuse a huge body by closing the connection: not a 500, but say so.
      if (body && Buffer.byteLength(body) > 1_000_000) return true;
      result.failures.push(`${category}: ${method} ${path}: ${String(err)}`);
      return false;
    }
    result.statuses.set(p.status, (result.statuses.get(p.status) ?? 0) + 1);
    let problem: string | undefined;
    if (p.status >= 500 && p.status !== 503) problem = `answered ${p.status}`;
    else if (p.status >= 400 && !isJsonError(p.json))
      problem = `${p.status} without the JSON error: ${p.text.slice(0, 100)}`;
    else if (p.status >= 400 && internalTextIn(p.text)) {
      result.leaks++;
      problem = `internal text (${internalTextIn(p.text)}) in the answer: ${p.text.slice(0, 100)}`;
    } else problem = expect?.(p);
    if (problem) {
      if (result.failures.length < 30) {
        result.failures.push(
          `${category}: ${method} ${path.slice(0, 120)} ${body === undefined ? '' : `body ${String(body).slice(0, 80)}`}: ${problem}`,
        );
      }
      return false;
    }
    return true;
  };
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const { sessionId, handoffId } = ids;
  const graphId = ids.graphId ?? randomUUID();
  const runId = ids.runId ?? randomUUID();

  const posts: [string, string][] = [
    ['POST', '/v1/sessions'],
    ['POST', `/v1/sessions/${sessionId}/steps`],
    ['POST', `/v1/sessions/${sessionId}/handoffs`],
    ['POST', `/v1/handoffs/${handoffId}/pickup`],
    ['POST', `/v1/handoffs/${handoffId}/resolve`],
    ['POST', `/v1/handoffs/${handoffId}/cancel`],
    ['POST', '/v1/graphs'],
    ['POST', `/v1/graphs/${graphId}/run`],
    ['POST', `/v1/runs/${runId}/resume`],
    ['POST', `/v1/runs/${runId}/cancel`],
  ];
  const withId: [string, (id: string) => string][] = [
    ['GET', (id) => `/v1/sessions/${id}`],
    ['POST', (id) => `/v1/sessions/${id}/steps`],
    ['POST', (id) => `/v1/sessions/${id}/handoffs`],
    ['POST', (id) => `/v1/handoffs/${id}/pickup`],
    ['GET', (id) => `/v1/handoffs/${id}/context`],
    ['GET', (id) => `/v1/graphs/${id}`],
    ['POST', (id) => `/v1/graphs/${id}/run`],
    ['GET', (id) => `/v1/runs/${id}/status`],
    ['GET', (id) => `/v1/runs/${id}/stream`],
    ['POST', (id) => `/v1/runs/${id}/cancel`],
  ];
  const gets = [
    '/v1/sessions',
    '/v1/escalations',
    '/v1/escalations/metrics',
    '/v1/graphs',
    '/v1/runs',
    '/v1/escalations/stream',
    `/v1/runs/${runId}/stream`,
  ];
  const opts = { numRuns: runs, endOnFailure: true };
  const noFail = async (p: Promise<boolean>) => {
    await p;
    return true; // failures are collected, not thrown: one bad endpoint must not hide the others
  };

  // Bodies: arbitrary JSON, arbitrary strings, near-valid objects with wrong types.
  const bodyArb = fc.oneof(
    fc.json().map((s) => ({ raw: s, type: 'application/json' })),
    fc.string({ maxLength: 300 }).map((s) => ({ raw: s, type: 'application/json' })),
    fc
      .record(
        {
          title: fc.anything(),
          problem_summary: fc.anything(),
          intent: fc.oneof(fc.constantFrom('escalate', 'transfer'), fc.anything()),
          reason: fc.anything(),
          severity: fc.oneof(fc.constantFrom('low', 'urgent'), fc.anything()),
          action: fc.anything(),
          outcome: fc.anything(),
          input: fc.anything(),
          name: fc.anything(),
          schema: fc.anything(),
        },
        { requiredKeys: [] },
      )
      .map((o) => ({ raw: JSON.stringify(o) ?? 'null', type: 'application/json' })),
    fc
      .tuple(
        fc.string({ maxLength: 100 }),
        fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/jsonx',
          '',
          'application/json; charset=latin1',
        ),
      )
      .map(([raw, type]) => ({ raw, type })),
  );
  for (const [method, path] of posts) {
    await fc.assert(
      fc.asyncProperty(bodyArb, ({ raw, type }) =>
        noFail(check('body', method, path, type ? { ...auth, 'content-type': type } : auth, raw)),
      ),
      opts,
    );
  }
  // Params: any string where an id goes.
  const idArb = fc.oneof(
    fc.uuid(),
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom('..', '%00', '00000000-0000-0000-0000-000000000000', 'A'.repeat(5000), 'null', '-1', ' '),
  );
  for (const [method, path] of withId) {
    await fc.assert(
      fc.asyncProperty(idArb, (id) =>
        noFail(
          check(
            'params',
            method,
            path(encodeURIComponent(id)),
            method === 'POST' ? json : auth,
            method === 'POST' ? '{}' : undefined,
          ),
        ),
      ),
      opts,
    );
  }
  // Query strings.
  const queryArb = fc.dictionary(
    fc.oneof(
      fc.constantFrom('limit', 'cursor', 'status', 'from', 'to', 'graph_id', 'last_event_id'),
      fc.string({ maxLength: 10 }),
    ),
    fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.integer().map(String),
      fc.constantFrom('-1', '1e9', '201', '0', 'NaN', '2026-02-30', ''),
    ),
    { maxKeys: 4 },
  );
  for (const path of gets) {
    await fc.assert(
      fc.asyncProperty(queryArb, (q) =>
        noFail(check('query', 'GET', `${path}?${new URLSearchParams(q).toString()}`, auth)),
      ),
      opts,
    );
  }
  // Headers: Last-Event-ID, Idempotency-Key, Authorization, Content-Type.
  const headerValue = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 60,
  });
  await fc.assert(
    fc.asyncProperty(headerValue, (v) =>
      noFail(
        check('headers', 'GET', '/v1/escalations/stream', { ...auth, 'last-event-id': v }, undefined, (p) =>
          p.status === 200 || p.status === 400
            ? undefined
            : `Last-Event-ID ${JSON.stringify(v)} answered ${p.status}`,
        ),
      ),
    ),
    opts,
  );
  await fc.assert(
    fc.asyncProperty(headerValue, (v) =>
      noFail(
        check(
          'headers',
          'POST',
          `/v1/sessions/${sessionId}/handoffs`,
          { ...json, 'idempotency-key': v },
          JSON.stringify({ intent: 'escalate', reason: 'fuzz idempotency', severity: 'low' }),
        ),
      ),
    ),
    opts,
  );
  await fc.assert(
    fc.asyncProperty(headerValue, (v) =>
      noFail(
        check('headers', 'GET', '/v1/sessions', { authorization: v }, undefined, (p) =>
          p.status === 401 ? undefined : `answered ${p.status}`,
        ),
      ),
    ),
    opts,
  );
  // Malformed Last-Event-ID, explicit cases (header and query).
  for (const v of [
    '-1',
    'abc',
    '1e3',
    '99999999999999999999',
    '0x10',
    '1.5',
    '١٢',
    '',
    ' 5',
    '5 ',
    '9007199254740993',
  ]) {
    await check(
      'last-event-id',
      'GET',
      '/v1/escalations/stream',
      v ? { ...auth, 'last-event-id': encodeURIComponent(v) } : auth,
    );
    await check(
      'last-event-id',
      'GET',
      `/v1/escalations/stream?last_event_id=${encodeURIComponent(v)}`,
      auth,
    );
    await check(
      'last-event-id',
      'GET',
      `/v1/runs/${runId}/stream?last_event_id=${encodeURIComponent(v)}`,
      auth,
    );
  }
  // Oversize bodies: just over the 64 KiB limit, and 5 MB; also chunked without a length.
  for (const size of [64 * 1024 + 1, 1_000_000, 5_000_000]) {
    const big = JSON.stringify({ title: 'x', problem_summary: 'y'.repeat(size) });
    await check('oversize', 'POST', '/v1/sessions', json, big, (p) =>
      p.status === 413 ? undefined : `answered ${p.status}, expected 413`,
    );
    await check('oversize', 'POST', `/v1/sessions/${sessionId}/handoffs`, json, big, (p) =>
      p.status === 413 ? undefined : `answered ${p.status}, expected 413`,
    );
  }
  // Tokens: forged, expired, alg:none, other algorithms, bad claims.
  const claims = { sub: randomUUID(), acct: randomUUID(), role: 'engineer' as const, name: 'Mallory' };
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const badTokens: [string, string][] = [
    ['forged', await signToken(claims, 'another-secret-0123456789abcdef')],
    ['expired', await signToken(claims, stack.secret, -60)],
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}.`],
    ['alg none, no dot', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}`],
    ['alg None', `${b64({ alg: 'None', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}.`],
    ['alg HS512', `${b64({ alg: 'HS512', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}.c2ln`],
    [
      'alg RS256 without JWKS',
      `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}.c2ln`,
    ],
    ['role root', await signToken({ ...claims, role: 'root' as 'admin' }, stack.secret)],
    ['acct not a uuid', await signToken({ ...claims, acct: 'acme' }, stack.secret)],
    ['garbage', 'not.a.token'],
    ['empty', ''],
  ];
  for (const [name, t] of badTokens) {
    for (const [method, path] of [
      ['GET', '/v1/sessions'],
      ['GET', '/v1/escalations/stream'],
      ['POST', `/v1/sessions/${sessionId}/handoffs`],
      ['GET', `/v1/runs/${runId}/stream`],
    ] as const) {
      await check(
        'tokens',
        method,
        path,
        { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        method === 'POST' ? JSON.stringify({ intent: 'escalate', reason: 'x', severity: 'low' }) : undefined,
        (p) => (p.status === 401 ? undefined : `${name} token answered ${p.status}`),
      );
    }
  }
  await fc.assert(
    fc.asyncProperty(
      fc.record(
        {
          sub: fc.anything(),
          acct: fc.anything(),
          role: fc.anything(),
          name: fc.anything(),
          exp: fc.anything(),
        },
        { requiredKeys: [] },
      ),
      async (c) => {
        const t = await signToken(c as never, stack.secret).catch(() => undefined);
        if (!t) return true;
        return noFail(
          check('tokens', 'GET', '/v1/sessions', { authorization: `Bearer ${t}` }, undefined, (p) =>
            p.status === 401 ? undefined : `claims ${JSON.stringify(c)?.slice(0, 80)} answered ${p.status}`,
          ),
        );
      },
    ),
    opts,
  );
  // Other accounts' ids: existence does not leak (404, never 200 or 403).
  const other = { authorization: `Bearer ${otherToken}`, 'content-type': 'application/json' };
  const foreign: [string, string, string?][] = [
    ['GET', `/v1/sessions/${sessionId}`],
    ['POST', `/v1/sessions/${sessionId}/steps`, JSON.stringify({ action: 'a', outcome: 'worked' })],
    [
      'POST',
      `/v1/sessions/${sessionId}/handoffs`,
      JSON.stringify({ intent: 'escalate', reason: 'x', severity: 'low' }),
    ],
    ['GET', `/v1/handoffs/${handoffId}/context`],
    ['POST', `/v1/handoffs/${handoffId}/pickup`],
    ['POST', `/v1/handoffs/${handoffId}/resolve`],
    ['POST', `/v1/handoffs/${handoffId}/cancel`],
    ...(ids.graphId
      ? ([
          ['GET', `/v1/graphs/${ids.graphId}`],
          ['POST', `/v1/graphs/${ids.graphId}/run`, '{"input":{}}'],
        ] as [string, string, string?][])
      : []),
    ...(ids.runId
      ? ([
          ['GET', `/v1/runs/${ids.runId}/status`],
          ['GET', `/v1/runs/${ids.runId}/stream`],
          ['POST', `/v1/runs/${ids.runId}/resume`, '{"input":1}'],
          ['POST', `/v1/runs/${ids.runId}/cancel`],
        ] as [string, string, string?][])
      : []),
  ];
  for (const [method, path, body] of foreign) {
    await check('other account', method, path, other, body, (p) =>
      p.status === 404 ? undefined : `answered ${p.status}, expected 404`,
    );
  }
  return result;
}
