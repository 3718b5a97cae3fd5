// Hardening (DESIGN.md "Limits and hardening"), as properties tried with fast-check:
// - templates: whatever the graph and its state, no rendered value passes its bound and every run
//   ends completed, paused or failed with a message naming the limit (in process, then on the stack,
//   where no frame may pass 1 MiB either);
// - JWT: a token is refused exactly when exp, nbf or iat is past the 60 s leeway; any name passes,
//   cleaned;
// - every endpoint of /openapi.json with random JSON, params, queries and headers: never a 5xx, the
//   JSON error with the security headers, and no internal text (driver, SQLite, stack) anywhere.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sign } from 'hono/jwt';
import { call, type Reply } from '../../bench/lib/http';
import { signToken } from '../../worker/dev/sign-token';
import {
  DEFAULT_MAX_STATE_BYTES,
  DEFAULT_MAX_TEMPLATE_BYTES,
  type ExecutorEvent,
  execute,
} from '../../worker/graphs/executor';
import { utf8Bytes } from '../../worker/graphs/template';
import { validateGraph } from '../../worker/graphs/validate-graph';
import { jsonBytes } from '../../worker/lib/json-safety';
import { CLOCK_LEEWAY_SECONDS, MAX_NAME_CHARS } from '../../worker/lib/token-claims';
import { createFakeProvider } from '../../worker/providers/fake-provider';
import { createToolRegistry } from '../../worker/tools/registry';
import type { Tool } from '../../worker/tools/tool';
import { internalTextIn } from '../internal-text';
import { FUZZ_GRAPH, probe } from './fuzz';
import type { Stack } from './stack';

export interface HardeningResult {
  ok: boolean;
  detail: string;
  /** Inputs tried: graphs run, tokens presented, requests made. */
  inputs: number;
  /** Answers with a 5xx status. */
  serverErrors: number;
  /** Answers or run events holding internal text. */
  leaks: number;
  failures: string[];
}

const MIB = 1024 * 1024;
const KEYS = ['a', 'b', 'c', 'd'] as const;

// ── random graphs ─────────────────────────────────────────────────────────────────────────────

/** A template: literal pieces and placeholders (sometimes a whole `{{key}}`, which copies a value). */
const templateArb = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...KEYS).map((k) => `{{${k}}}`) },
  {
    weight: 4,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.string({ maxLength: 12 }),
          fc.constantFrom(...KEYS, 'missing', 'a.x').map((k) => `{{${k}}}`),
        ),
        { minLength: 1, maxLength: 12 },
      )
      .map((parts) => parts.join('')),
  },
);

const nodeArb = (id: string) =>
  fc.oneof(
    fc
      .dictionary(fc.constantFrom(...KEYS), templateArb, { minKeys: 1, maxKeys: 3 })
      .map((set) => ({ id, type: 'transform', set })),
    fc
      .tuple(templateArb, fc.constantFrom(...KEYS))
      .map(([prompt, key]) => ({ id, type: 'llm', prompt: prompt || '?', output_key: key })),
    fc
      .tuple(templateArb, fc.constantFrom(...KEYS))
      .map(([text, key]) => ({ id, type: 'tool', tool: 'echo', args: { text }, output_key: key })),
  );

/** A chain n0 → … → nk, the last looping back to n0 or ending: loops grow what they render. */
const graphArb = fc
  .integer({ min: 1, max: 5 })
  .chain((n) =>
    fc.tuple(
      fc.tuple(...Array.from({ length: n }, (_, i) => nodeArb(`n${i}`))),
      fc.boolean(),
      fc.constant(n),
    ),
  )
  .map(([nodes, loops, n]) => ({
    entry: 'n0',
    nodes,
    edges: nodes.map((node, i) =>
      i < n - 1
        ? { from: node.id, to: `n${i + 1}` }
        : {
            from: node.id,
            branches: [{ when: { field_exists: 'stop' }, to: '__end__' }],
            default: loops ? 'n0' : '__end__',
          },
    ),
  }));

const stateArb = (maxChars: number) =>
  fc.record({
    a: fc.string({ unit: 'grapheme', maxLength: maxChars }),
    b: fc.string({ maxLength: maxChars }),
    c: fc.oneof(fc.integer(), fc.string({ maxLength: 20 })),
    d: fc.string({ maxLength: 200 }).map((s) => ({ x: s, list: [s, s] })),
  });

// biome-ignore lint/suspicious/noControlCharactersInRegex: what a cleaned name must not hold.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const LIMIT_MESSAGE = /TEMPLATE_MAX_BYTES|RUN_STATE_MAX_BYTES|run log limit|step limit|levels deep/;

/** In process: the executor with small bounds, every prompt and tool argument measured. */
async function templatesInProcess(runs: number, failures: string[]) {
  const templateBytes = 2_048;
  const stateBytes = 16_384;
  let inputs = 0;
  let overBound = 0;
  const outcomes = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(graphArb, stateArb(3_000), async (schema, state) => {
      inputs++;
      const validated = validateGraph(schema);
      if (!validated.ok) throw new Error(`generated an invalid graph: ${JSON.stringify(validated.issues)}`);
      const rendered: number[] = [];
      const fake = createFakeProvider();
      const llm = {
        name: 'measured',
        complete: (req: { prompt: string }) => {
          rendered.push(utf8Bytes(req.prompt));
          return fake.complete(req);
        },
      };
      const echo: Tool = {
        name: 'echo',
        run: async (args) => {
          for (const v of Object.values(args)) if (typeof v === 'string') rendered.push(utf8Bytes(v));
          return args;
        },
      };
      const states: number[] = [];
      const result = await execute({
        graph: validated.graph,
        checkpoint: { next: validated.graph.entry, state },
        signal: new AbortController().signal,
        deps: { llm, tools: createToolRegistry([echo]), now: () => 0 },
        onStep: (events: ExecutorEvent[], checkpoint) => {
          states.push(jsonBytes(checkpoint.state));
          for (const e of events) if (e.type === 'node_completed') states.push(jsonBytes(e.state));
        },
        maxSteps: 60,
        maxStateBytes: stateBytes,
        maxTemplateBytes: templateBytes,
      });
      outcomes.set(result.status, (outcomes.get(result.status) ?? 0) + 1);
      const over =
        rendered.filter((b) => b > templateBytes).length +
        states.slice(1).filter((b) => b > stateBytes).length;
      overBound += over;
      if (over > 0 && failures.length < 20)
        failures.push(
          `templates: a rendered value over its bound in ${JSON.stringify(schema).slice(0, 160)}`,
        );
      if (result.status === 'failed' && !LIMIT_MESSAGE.test(result.message) && failures.length < 20) {
        failures.push(`templates: failed without naming a limit: ${result.message}`);
      }
      return true;
    }),
    { numRuns: runs, endOnFailure: true },
  );
  return { inputs, overBound, outcomes };
}

/** SSE frames of a finished stream's text, each with its size in bytes. */
function framesOf(text: string) {
  return text
    .split('\n\n')
    .filter((f) => f.trim() !== '')
    .map((raw) => {
      const event = /^event: (.+)$/m.exec(raw)?.[1];
      const data = /^data: (.+)$/m.exec(raw)?.[1];
      return {
        raw,
        bytes: Buffer.byteLength(raw),
        event,
        data: data === undefined ? undefined : (JSON.parse(data) as unknown),
      };
    });
}

/** On the stack: the same kind of graphs with the default bounds, read from their run streams. */
async function templatesOnStack(stack: Stack, runs: number, failures: string[]) {
  const acct = randomUUID();
  let inputs = 0;
  let overBound = 0;
  let leaks = 0;
  let maxFrame = 0;
  const terminals = new Map<string, number>();
  const samples = fc.sample(fc.tuple(graphArb, stateArb(25_000)), { numRuns: runs });
  // Self-loops that double a value: they must end at a bound, never at an internal error.
  samples.push([
    {
      entry: 'n0',
      nodes: [{ id: 'n0', type: 'transform', set: { a: '{{a}}{{a}}', b: '{{a}}' } }],
      edges: [{ from: 'n0', branches: [{ when: { field_exists: 'stop' }, to: '__end__' }], default: 'n0' }],
    },
    { a: 'é'.repeat(1_000), b: '', c: 0, d: { x: '', list: [] } },
  ] as never);
  // Copies of a 30 KB value under new keys: frames grow toward the state bound, which ends it.
  const ids = Array.from({ length: 12 }, (_, i) => `n${i}`);
  samples.push([
    {
      entry: 'n0',
      nodes: ids.map((id) => ({ id, type: 'transform', set: { [`copy_${id}`]: '{{b}}' } })),
      edges: ids.map((id, i) => ({ from: id, to: ids[i + 1] ?? '__end__' })),
    },
    { a: '', b: 'x'.repeat(30_000), c: 0, d: { x: '', list: [] } },
  ] as never);
  const one = async ([schema, input]: [unknown, unknown], i: number) => {
    inputs++;
    // A user per run: the per-user limit on active runs is not what is tried here.
    const token = await signToken(
      { sub: randomUUID(), acct, role: 'engineer', name: `Runner ${i}` },
      stack.secret,
    );
    const g = await call(stack.url, 'POST', '/v1/graphs', {
      token,
      body: { name: `hardening-${i}`, schema },
    });
    if (g.status !== 201) {
      failures.push(`templates on the stack: graph answered ${g.status}: ${g.text.slice(0, 200)}`);
      return;
    }
    const graphId = (g.json as { id: string }).id;
    const r = await call(stack.url, 'POST', `/v1/graphs/${graphId}/run`, { token, body: { input } });
    if (r.status !== 202) {
      // An input over the 64 KiB body limit is refused before any run: fine, and not a run tried.
      if (r.status !== 413)
        failures.push(`templates on the stack: run answered ${r.status}: ${r.text.slice(0, 200)}`);
      return;
    }
    const runId = (r.json as { run_id: string }).run_id;
    const stream = await call(stack.url, 'GET', `/v1/runs/${runId}/stream`, { token, timeoutMs: 120_000 });
    const frames = framesOf(stream.text);
    for (const f of frames) {
      maxFrame = Math.max(maxFrame, f.bytes);
      if (f.bytes > MIB) {
        overBound++;
        failures.push(`templates on the stack: a ${f.event} frame of ${f.bytes} bytes`);
      }
      if (f.event === 'node_completed') {
        const size = jsonBytes((f.data as { state: unknown }).state);
        if (size > DEFAULT_MAX_STATE_BYTES) {
          overBound++;
          failures.push(`templates on the stack: a state of ${size} bytes`);
        }
      }
    }
    const terminal = frames.at(-1);
    const message = terminal?.event === 'error' ? (terminal.data as { message: string }).message : '';
    const label =
      terminal?.event === 'error'
        ? `${(terminal.data as { code: string }).code} (${LIMIT_MESSAGE.exec(message)?.[0] ?? 'other'})`
        : (terminal?.event ?? 'none');
    terminals.set(label, (terminals.get(label) ?? 0) + 1);
    if (terminal?.event === 'error') {
      const { code, message } = terminal.data as { code: string; message: string };
      if (code !== 'node_failed' || !LIMIT_MESSAGE.test(message))
        failures.push(`templates on the stack: ended ${code}: ${message}`);
      if (internalTextIn(message)) {
        leaks++;
        failures.push(`templates on the stack: internal text in a run event: ${message.slice(0, 200)}`);
      }
    } else if (terminal?.event !== 'graph_completed') {
      failures.push(`templates on the stack: the stream ended without a terminal event (${label})`);
    }
  };
  for (let i = 0; i < samples.length; i += 5) {
    await Promise.all(samples.slice(i, i + 5).map((s, j) => one(s as [unknown, unknown], i + j)));
  }
  return { inputs, overBound, leaks, maxFrame, terminals };
}

// ── JWT ───────────────────────────────────────────────────────────────────────────────────────

/** A token with exactly these claims (times, odd names), signed as the identity provider would. */
const tokenWith = (stack: Stack, claims: Record<string, unknown>): Promise<string> =>
  sign(claims as never, stack.secret, 'HS256');

// Offsets this close to the leeway's edge are skipped: the request takes a moment to arrive.
const EDGE_MARGIN = 3;
const offset = fc
  .integer({ min: -400, max: 400 })
  .filter((o) => Math.abs(Math.abs(o) - CLOCK_LEEWAY_SECONDS) > EDGE_MARGIN);

async function jwtProperties(stack: Stack, runs: number, failures: string[]) {
  let inputs = 0;
  let serverErrors = 0;
  await fc.assert(
    fc.asyncProperty(
      offset,
      fc.option(offset, { nil: undefined }),
      fc.option(offset, { nil: undefined }),
      async (exp, nbf, iat) => {
        inputs++;
        const now = Math.floor(Date.now() / 1000);
        const claims = {
          sub: randomUUID(),
          acct: randomUUID(),
          role: 'engineer',
          name: 'Clock Skew',
          exp: now + exp,
          ...(nbf === undefined ? {} : { nbf: now + nbf }),
          ...(iat === undefined ? {} : { iat: now + iat }),
        };
        const valid =
          exp > -CLOCK_LEEWAY_SECONDS &&
          (nbf === undefined || nbf <= CLOCK_LEEWAY_SECONDS) &&
          (iat === undefined || iat <= CLOCK_LEEWAY_SECONDS);
        const res = await call(stack.url, 'GET', '/v1/sessions?limit=1', {
          token: await tokenWith(stack, claims),
        });
        if (res.status >= 500) serverErrors++;
        if (res.status !== (valid ? 200 : 401) && failures.length < 20) {
          failures.push(
            `jwt: exp ${exp} nbf ${nbf} iat ${iat} (s from now) answered ${res.status}, expected ${valid ? 200 : 401}`,
          );
        }
        return true;
      },
    ),
    { numRuns: runs * 4, endOnFailure: true },
  );
  // Any name passes, cleaned: shown on the card of a handoff the user creates.
  const acct = randomUUID();
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), fc.anything()), async (name) => {
      inputs++;
      const now = Math.floor(Date.now() / 1000);
      const token = await tokenWith(stack, {
        sub: randomUUID(),
        acct,
        role: 'engineer',
        name,
        exp: now + 600,
      });
      const s = await call(stack.url, 'POST', '/v1/sessions', {
        token,
        body: { title: 'name', problem_summary: 'p' },
      });
      if (s.status >= 500) serverErrors++;
      if (s.status !== 201) {
        if (failures.length < 20)
          failures.push(
            `jwt: the name ${JSON.stringify(name)?.slice(0, 60)} answered ${s.status}: ${s.text.slice(0, 120)}`,
          );
        return true;
      }
      const h = await call(stack.url, 'POST', `/v1/sessions/${(s.json as { id: string }).id}/handoffs`, {
        token,
        body: { intent: 'escalate', reason: 'name', severity: 'low' },
      });
      if (h.status >= 500) serverErrors++;
      const shown = (h.json as { created_by?: { name?: string } } | undefined)?.created_by?.name ?? '';
      const bad = CONTROL.test(shown) || Array.from(shown).length > MAX_NAME_CHARS || shown === '';
      if ((h.status !== 201 || bad) && failures.length < 20) {
        failures.push(
          `jwt: the name ${JSON.stringify(name)?.slice(0, 60)} shown as ${JSON.stringify(shown).slice(0, 60)} (${h.status})`,
        );
      }
      return true;
    }),
    { numRuns: runs, endOnFailure: true },
  );
  return { inputs, serverErrors };
}

// ── every endpoint ────────────────────────────────────────────────────────────────────────────

interface Operation {
  method: string;
  path: string;
  stream: boolean;
}

/** Every operation of the live /openapi.json. */
async function operations(stack: Stack): Promise<Operation[]> {
  const doc = (await call(stack.url, 'GET', '/openapi.json')).json as {
    paths: Record<
      string,
      Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>
    >;
  };
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      stream: Object.values(op.responses ?? {}).some((r) => r.content?.['text/event-stream'] !== undefined),
    })),
  );
}

const jsonBody = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.anything({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc
    .record(
      {
        title: fc.anything(),
        problem_summary: fc.string(),
        action: fc.string(),
        outcome: fc.constantFrom('worked', 'failed', 'maybe'),
        intent: fc.constantFrom('escalate', 'transfer', 'x'),
        reason: fc.string({ unit: 'binary' }),
        severity: fc.constantFrom('low', 'urgent', ''),
        to_user_id: fc.oneof(fc.uuid(), fc.string()),
        name: fc.string(),
        schema: fc.anything({ maxDepth: 3 }),
        input: fc.anything({ maxDepth: 3 }),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
);

const queryArb = fc.dictionary(
  fc.constantFrom('limit', 'cursor', 'status', 'from', 'to', 'graph_id', 'last_event_id', 'asking', 'tz'),
  fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.integer().map(String),
    fc.constantFrom('-1', '0', '201', 'me', 'NaN'),
  ),
  { maxKeys: 4 },
);

async function everyEndpoint(
  stack: Stack,
  ids: Record<string, string>,
  token: string,
  runs: number,
  failures: string[],
) {
  const ops = await operations(stack);
  let inputs = 0;
  let serverErrors = 0;
  let leaks = 0;
  let missingHeaders = 0;
  const statuses = new Map<number, number>();
  const idArb = fc.oneof(
    fc.constantFrom(...Object.values(ids)),
    fc.uuid(),
    fc.string({ maxLength: 40 }),
    fc.constantFrom('..', '%00', 'null', ' ', 'A'.repeat(300)),
  );
  for (const op of ops) {
    await fc.assert(
      fc.asyncProperty(
        idArb,
        jsonBody,
        queryArb,
        fc.string({ maxLength: 30 }),
        async (id, body, query, header) => {
          inputs++;
          const path = op.path.replace(/\{[^}]+\}/g, encodeURIComponent(id));
          const qs = new URLSearchParams(query).toString();
          const headers: Record<string, string> = {
            authorization: `Bearer ${token}`,
            'idempotency-key': header.replace(/[^\x20-\x7e]/g, '') || 'k',
            'last-event-id': header.replace(/[^\x20-\x7e]/g, ''),
          };
          const withBody = ['POST', 'PUT', 'PATCH'].includes(op.method);
          if (withBody) headers['content-type'] = 'application/json';
          let p: Awaited<ReturnType<typeof probe>>;
          try {
            p = await probe(
              stack.url,
              op.method,
              `${path}${qs ? `?${qs}` : ''}`,
              headers,
              withBody ? body : undefined,
            );
          } catch (err) {
            failures.push(`endpoints: ${op.method} ${path.slice(0, 80)}: ${String(err)}`);
            return true;
          }
          statuses.set(p.status, (statuses.get(p.status) ?? 0) + 1);
          const where = `${op.method} ${op.path} (${p.status})`;
          if (p.status >= 500) {
            serverErrors++;
            if (failures.length < 30) failures.push(`endpoints: ${where}: ${p.text.slice(0, 160)}`);
          }
          if (
            !p.headers['x-request-id'] ||
            p.headers['x-content-type-options'] !== 'nosniff' ||
            p.headers['referrer-policy'] !== 'no-referrer'
          ) {
            missingHeaders++;
            if (failures.length < 30)
              failures.push(`endpoints: ${where} without X-Request-Id, nosniff or Referrer-Policy`);
          }
          if (p.status >= 400) {
            const leak = internalTextIn(p.text);
            if (leak) {
              leaks++;
              if (failures.length < 30)
                failures.push(`endpoints: ${where} leaked ${leak}: ${p.text.slice(0, 160)}`);
            }
            const e = (p.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
            if ((typeof e?.code !== 'string' || typeof e?.message !== 'string') && failures.length < 30) {
              failures.push(`endpoints: ${where} without the JSON error: ${p.text.slice(0, 100)}`);
            }
          }
          return true;
        },
      ),
      { numRuns: runs, endOnFailure: true },
    );
  }
  return { operations: ops.length, inputs, serverErrors, leaks, missingHeaders, statuses };
}

// ── the phase ─────────────────────────────────────────────────────────────────────────────────

const summary = (m: Map<string | number, number>) =>
  [...m.entries()]
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])))
    .map(([k, n]) => `${k}×${n}`)
    .join(' ');

export async function hardening(stack: Stack, runs: number): Promise<HardeningResult> {
  const failures: string[] = [];
  const inProcess = await templatesInProcess(runs * 20, failures);
  const onStack = await templatesOnStack(stack, Math.max(5, runs), failures);
  const jwt = await jwtProperties(stack, runs, failures);

  // Real ids for the endpoints' parameters, in an account of their own.
  const acct = randomUUID();
  const token = await signToken({ sub: randomUUID(), acct, role: 'admin', name: 'Fuzz Admin' }, stack.secret);
  const session = await call(stack.url, 'POST', '/v1/sessions', {
    token,
    body: { title: 'fuzz', problem_summary: 'p' },
  });
  const sessionId = (session.json as { id: string }).id;
  const handoff = await call(stack.url, 'POST', `/v1/sessions/${sessionId}/handoffs`, {
    token,
    body: { intent: 'escalate', reason: 'fuzz', severity: 'low' },
  });
  const graph = await call(stack.url, 'POST', '/v1/graphs', { token, body: FUZZ_GRAPH });
  const graphId = (graph.json as { id: string }).id;
  const run: Reply = await call(stack.url, 'POST', `/v1/graphs/${graphId}/run`, {
    token,
    body: { input: {} },
  });
  const ids = {
    session: sessionId,
    handoff: (handoff.json as { id: string }).id,
    graph: graphId,
    run: (run.json as { run_id: string }).run_id,
  };
  const endpoints = await everyEndpoint(stack, ids, token, runs, failures);

  const inputs = inProcess.inputs + onStack.inputs + jwt.inputs + endpoints.inputs;
  const serverErrors = jwt.serverErrors + endpoints.serverErrors;
  const leaks = onStack.leaks + endpoints.leaks;
  const overBound = inProcess.overBound + onStack.overBound;
  return {
    ok: failures.length === 0 && serverErrors === 0 && leaks === 0 && overBound === 0,
    detail: [
      `templates in process: ${inProcess.inputs} random graphs (${summary(inProcess.outcomes)}), values over a bound ${inProcess.overBound}`,
      `on the stack: ${onStack.inputs} graphs (${summary(onStack.terminals)}), largest frame ${onStack.maxFrame} bytes, over a bound ${onStack.overBound}`,
      `JWT: ${jwt.inputs} tokens (times around the ${CLOCK_LEEWAY_SECONDS} s leeway, random names)`,
      `endpoints: ${endpoints.operations} operations × ${runs} random inputs = ${endpoints.inputs} requests (${summary(endpoints.statuses)}), without the security headers ${endpoints.missingHeaders}`,
      `bounds: template ${DEFAULT_MAX_TEMPLATE_BYTES} B, state ${DEFAULT_MAX_STATE_BYTES} B, frame ${MIB} B`,
    ].join('; '),
    inputs,
    serverErrors,
    leaks,
    failures,
  };
}
