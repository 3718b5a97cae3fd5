import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { type ExecutorEvent, execute } from '../worker/graphs/executor';
import { validateGraph } from '../worker/graphs/validate-graph';
import { LlmError } from '../worker/providers/llm-provider';
import { createOpenAiProvider } from '../worker/providers/openai-provider';
import { createToolRegistry } from '../worker/tools/registry';
import { waitFor } from './escalation-helpers';

// The openai provider against a real HTTP peer on loopback (test/setup/fake-openai.ts), called
// from inside workerd with workerd's own fetch.
const server = (env as unknown as { OPENAI_FAKE_URL: string }).OPENAI_FAKE_URL;
const baseUrl = `${server}/v1`;

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as LlmError,
  );

describe('openai provider against a fake OpenAI-compatible server', () => {
  it('sends the chat-completions request shape and reads the answer', async () => {
    const llm = createOpenAiProvider({ baseUrl: `${baseUrl}/`, apiKey: 'sk-test', model: 'ok' });
    const out = await llm.complete({ prompt: 'Hello there', system: 'Be brief' });
    expect(out.model).toBe('ok-served');
    const seen = JSON.parse(out.text);
    expect(seen).toEqual({
      method: 'POST',
      path: '/v1/chat/completions',
      authorization: 'Bearer sk-test',
      content_type: 'application/json',
      body: {
        model: 'ok',
        messages: [
          { role: 'system', content: 'Be brief' },
          { role: 'user', content: 'Hello there' },
        ],
      },
    });
    // No key, no system prompt: neither is sent.
    const bare = JSON.parse(
      (await createOpenAiProvider({ baseUrl, model: 'ok' }).complete({ prompt: 'Hi' })).text,
    );
    expect(bare.authorization).toBeNull();
    expect(bare.body.messages).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  it.each([
    [401, 'auth', false],
    [403, 'auth', false],
    [400, 'bad_request', false],
    [404, 'bad_request', false],
    [408, 'timeout', true],
    [429, 'rate_limited', true],
    [500, 'provider_error', true],
    [503, 'provider_error', true],
  ])('maps HTTP %i to %s (retryable: %s)', async (status, code, retryable) => {
    const llm = createOpenAiProvider({ baseUrl, model: `status-${status}` });
    const err = await failure(llm.complete({ prompt: 'x' }));
    expect(err).toBeInstanceOf(LlmError);
    expect(err).toMatchObject({ code, status, retryable });
    expect(err.message).toContain(`simulated ${status}`);
    if (status === 429) expect(err.retryAfterMs).toBe(7_000);
  });

  it('reports bodies that are not a completion as bad_response', async () => {
    for (const model of ['garbage', 'no-choices']) {
      const err = await failure(createOpenAiProvider({ baseUrl, model }).complete({ prompt: 'x' }));
      expect(err).toMatchObject({ code: 'bad_response', retryable: false });
    }
  });

  it('reports an unreachable server as provider_error', async () => {
    // The port of the server with one added is almost certainly closed; any refusal will do.
    const closed = server.replace(
      /:(\d+)$/,
      (_m, p: string) => `:${Number(p) === 65535 ? 1 : Number(p) + 1}`,
    );
    const err = await failure(
      createOpenAiProvider({ baseUrl: closed, model: 'ok' }).complete({ prompt: 'x' }),
    );
    expect(err).toMatchObject({ code: 'provider_error', retryable: true });
  });

  it('times out a server that does not answer, and closes the request', async () => {
    const tag = `timeout-${crypto.randomUUID()}`;
    const llm = createOpenAiProvider({ baseUrl, model: 'hang', timeoutMs: 200 });
    const err = await failure(llm.complete({ prompt: tag }));
    expect(err).toMatchObject({ code: 'timeout', retryable: true });
    await waitFor(async () => {
      const seen = (await (await fetch(`${server}/__hung/${tag}`)).json()) as { closed: boolean };
      return seen.closed ? true : undefined;
    }, 'the server to see the request closed');
  });

  it('aborts the in-flight request when the caller aborts', async () => {
    const tag = `abort-${crypto.randomUUID()}`;
    const controller = new AbortController();
    const llm = createOpenAiProvider({ baseUrl, model: 'hang', timeoutMs: 60_000 });
    const pending = failure(llm.complete({ prompt: tag, signal: controller.signal }));
    await waitFor(async () => {
      const seen = (await (await fetch(`${server}/__hung/${tag}`)).json()) as { seen: boolean };
      return seen.seen ? true : undefined;
    }, 'the request to reach the server');
    controller.abort();
    expect(await pending).toMatchObject({ code: 'aborted', retryable: false });
    await waitFor(async () => {
      const seen = (await (await fetch(`${server}/__hung/${tag}`)).json()) as { closed: boolean };
      return seen.closed ? true : undefined;
    }, 'the server to see the request closed');
  });

  it('reports the usage of a whole answer', async () => {
    const out = await createOpenAiProvider({ baseUrl, model: 'ok' }).complete({ prompt: 'x' });
    expect(out.usage).toEqual({ prompt_tokens: 9, completion_tokens: 4 });
  });
});

describe('openai provider, streaming', () => {
  const stream = async (model: string, prompt = `p-${crypto.randomUUID()}`, timeoutMs?: number) => {
    const deltas: string[] = [];
    const llm = createOpenAiProvider({ baseUrl, model, ...(timeoutMs ? { timeoutMs } : {}) });
    const result = await llm
      .complete({ prompt, onDelta: (t) => deltas.push(t) })
      .then((r) => ({ ok: true as const, r }))
      .catch((e: unknown) => ({ ok: false as const, e: e as LlmError }));
    return { deltas, result };
  };

  it('asks for a stream with usage and reads the SSE chunks as they come', async () => {
    const { deltas, result } = await stream('ok', 'Stream this');
    if (!result.ok) throw result.e;
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.join('')).toBe(result.r.text);
    expect(result.r.model).toBe('ok-served');
    const seen = JSON.parse(result.r.text);
    expect(seen.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(result.r.usage).toEqual({ prompt_tokens: 11, completion_tokens: deltas.length });
  });

  it('fails cleanly, never hangs, when the stream drops halfway or ends unfinished', async () => {
    for (const model of ['stream-drop', 'stream-no-done']) {
      const { deltas, result } = await stream(model);
      expect(result.ok, model).toBe(false);
      if (result.ok) continue;
      expect(result.e).toBeInstanceOf(LlmError);
      expect(result.e).toMatchObject({ code: 'provider_error' });
      expect(result.e.message).toMatch(/broke off|ended before/);
      // The pieces that came before the drop were handed over.
      expect(deltas.length).toBeGreaterThan(0);
    }
  });

  it('reports an error event inside the stream', async () => {
    const { result } = await stream('stream-error');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.e.message).toContain('overloaded, try later');
  });

  it('times out a stream that stalls, and closes the request', async () => {
    const tag = `stall-${crypto.randomUUID()}`;
    const { deltas, result } = await stream('stream-hang', tag, 300);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.e).toMatchObject({ code: 'timeout' });
    expect(deltas.length).toBe(1);
    await waitFor(async () => {
      const seen = (await (await fetch(`${server}/__hung/${tag}`)).json()) as { closed: boolean };
      return seen.closed ? true : undefined;
    }, 'the server to see the stalled stream closed');
  });

  it('aborts the upstream stream when the caller aborts (cancel)', async () => {
    const tag = `cancel-${crypto.randomUUID()}`;
    const controller = new AbortController();
    const deltas: string[] = [];
    const llm = createOpenAiProvider({ baseUrl, model: 'stream-hang', timeoutMs: 60_000 });
    const pending = failure(
      llm.complete({ prompt: tag, signal: controller.signal, onDelta: (t) => deltas.push(t) }),
    );
    await waitFor(async () => (deltas.length > 0 ? true : undefined), 'the first piece');
    controller.abort();
    expect(await pending).toMatchObject({ code: 'aborted' });
    await waitFor(async () => {
      const seen = (await (await fetch(`${server}/__hung/${tag}`)).json()) as { closed: boolean };
      return seen.closed ? true : undefined;
    }, 'the server to see the stream closed');
  });

  it('takes a whole answer from a server that ignores stream: true, as one piece', async () => {
    const { deltas, result } = await stream('stream-ignored');
    if (!result.ok) throw result.e;
    expect(deltas).toEqual([result.r.text]);
  });

  it('a node with a retry policy retries a dropped stream and completes; without one it fails cleanly', async () => {
    const llm = createOpenAiProvider({ baseUrl, model: 'stream-drop-once' });
    const node = (retry?: unknown) => ({
      entry: 'a',
      nodes: [
        {
          id: 'a',
          type: 'llm',
          prompt: `retry-${crypto.randomUUID()}`,
          output_key: 'out',
          stream: true,
          ...(retry ? { retry } : {}),
        },
      ],
      edges: [],
    });
    const run = async (schema: unknown) => {
      const checked = validateGraph(schema);
      if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
      const events: ExecutorEvent[] = [];
      const deltas: string[] = [];
      const opts = {
        graph: checked.graph,
        signal: new AbortController().signal,
        deps: { llm, tools: createToolRegistry(), now: () => Date.now() },
        onStep: (e: ExecutorEvent[]) => void events.push(...e),
        onDelta: (_n: string, t: string) => void deltas.push(t),
      };
      let result = await execute({ ...opts, checkpoint: { next: 'a', state: {} } });
      // The caller schedules the next attempt; here it runs it at once.
      while (result.status === 'retrying') result = await execute({ ...opts, checkpoint: result.checkpoint });
      return { result, events, deltas };
    };
    const retried = await run(node({ max_attempts: 3, initial_interval_ms: 0, retry_on: ['error'] }));
    expect(retried.result.status).toBe('completed');
    expect(retried.events.map((e) => e.type)).toEqual([
      'node_started',
      'node_retrying',
      'node_started',
      'node_completed',
      'edge_traversed',
    ]);
    expect(retried.events.find((e) => e.type === 'node_completed')).toMatchObject({
      usage: { prompt_tokens: 11, completion_tokens: expect.any(Number) },
    });
    const failed = await run(node());
    expect(failed.result).toMatchObject({ status: 'failed', message: expect.stringContaining('broke off') });
  });
});

// Regression: "LLM output size unbounded in hub memory". The whole answer was read with
// `response.text()` and a stream kept every piece, with no bound until the node completed: a
// server that never stops talking could fill the hub's memory. Reading now stops at the run's
// state limit and the node fails naming RUN_STATE_MAX_BYTES.
describe('an LLM answer over the state limit', () => {
  const maxStateBytes = 16 * 1024;
  const sentBy = async (tag: string) =>
    waitFor(async () => {
      const seen = (await (await fetch(`${server}/__hung/${tag}`)).json()) as {
        closed: boolean;
        sent: number | null;
      };
      return seen.closed && seen.sent !== null ? seen.sent : undefined;
    }, 'the server to see the answer let go');

  it.each([
    ['endless', false],
    ['stream-endless', true],
    ['stream-endless-line', true],
  ])(
    '%s: reading stops at the limit, the node fails naming it, the server is let go',
    async (model, stream) => {
      const tag = `${model}-${crypto.randomUUID()}`;
      const checked = validateGraph({
        entry: 'a',
        nodes: [{ id: 'a', type: 'llm', prompt: tag, output_key: 'out', stream }],
        edges: [],
      });
      if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
      const deltas: string[] = [];
      const result = await execute({
        graph: checked.graph,
        checkpoint: { next: 'a', state: {} },
        signal: new AbortController().signal,
        maxStateBytes,
        deps: {
          llm: createOpenAiProvider({ baseUrl, model, timeoutMs: 60_000 }),
          tools: createToolRegistry(),
          now: () => Date.now(),
        },
        onStep: () => undefined,
        onDelta: (_n, t) => void deltas.push(t),
      });
      expect(result).toMatchObject({
        status: 'failed',
        code: 'node_failed',
        message: `node "a" (llm) answered more than the state limit RUN_STATE_MAX_BYTES (16384 bytes, 16 KiB); the answer was not read further`,
      });
      // What reached the run's streamed text (node_delta) stayed within the limit too.
      expect(deltas.join('').length).toBeLessThanOrEqual(maxStateBytes);
      // The server was cut off long before its 64 MiB.
      expect(await sentBy(tag)).toBeLessThan(8 * 1024 * 1024);
    },
  );

  it('the provider alone: too_large, not retryable, for a whole and a streamed answer', async () => {
    for (const [model, onDelta] of [
      ['endless', undefined],
      ['stream-endless', () => undefined],
    ] as const) {
      const llm = createOpenAiProvider({ baseUrl, model });
      const err = await failure(
        llm.complete({
          prompt: `${model}-${crypto.randomUUID()}`,
          maxOutputBytes: 4096,
          ...(onDelta ? { onDelta } : {}),
        }),
      );
      expect(err).toMatchObject({ code: 'too_large', retryable: false });
      expect(err.message).toBe(
        'LLM answer is longer than 4096 bytes, the most this call can use; reading stopped there',
      );
    }
  });
});
