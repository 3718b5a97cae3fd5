import { describe, expect, it } from 'vitest';
import { LlmError } from './llm-provider';
import { createOpenAiProvider } from './openai-provider';

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function fakeFetch(handler: (init: RequestInit | undefined) => Promise<Response> | Response) {
  const calls: Call[] = [];
  const fn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init });
    return handler(init);
  }) as typeof fetch;
  return { fn, calls };
}

/** Never answers until its signal aborts, like a hung server. */
const hanging = (init: RequestInit | undefined) =>
  new Promise<Response>((_resolve, reject) => {
    init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
  });

const completion = (content: unknown, model = 'gpt-test') =>
  new Response(JSON.stringify({ model, choices: [{ message: { role: 'assistant', content } }] }), {
    headers: { 'content-type': 'application/json' },
  });

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as LlmError,
  );

describe('openai provider', () => {
  it('sends an OpenAI chat-completions request', async () => {
    const f = fakeFetch(() => completion('hello'));
    const llm = createOpenAiProvider({
      baseUrl: 'https://api.example.com/v1/',
      apiKey: 'sk-1',
      model: 'm1',
      fetch: f.fn,
    });
    const out = await llm.complete({ prompt: 'Hi', system: 'Be brief' });
    expect(out).toEqual({ text: 'hello', model: 'gpt-test' });
    expect(llm.name).toBe('openai');
    const call = f.calls[0];
    expect(call?.url).toBe('https://api.example.com/v1/chat/completions');
    expect(call?.init?.method).toBe('POST');
    const headers = new Headers(call?.init?.headers);
    expect(headers.get('authorization')).toBe('Bearer sk-1');
    expect(headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(String(call?.init?.body))).toEqual({
      model: 'm1',
      messages: [
        { role: 'system', content: 'Be brief' },
        { role: 'user', content: 'Hi' },
      ],
    });
  });

  it('omits the system message and the key when absent', async () => {
    const f = fakeFetch(() =>
      completion([
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ]),
    );
    const llm = createOpenAiProvider({ baseUrl: 'http://127.0.0.1:11434/v1', model: 'local', fetch: f.fn });
    expect((await llm.complete({ prompt: 'Hi' })).text).toBe('ab');
    const init = f.calls[0]?.init;
    expect(new Headers(init?.headers).has('authorization')).toBe(false);
    expect(JSON.parse(String(init?.body)).messages).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  it.each([
    [401, 'auth', false],
    [403, 'auth', false],
    [429, 'rate_limited', true],
    [400, 'bad_request', false],
    [404, 'bad_request', false],
    [500, 'provider_error', true],
    [503, 'provider_error', true],
  ] as const)('maps HTTP %i to %s', async (status, code, retryable) => {
    const f = fakeFetch(
      () =>
        new Response(JSON.stringify({ error: { message: 'details here' } }), {
          status,
          headers: { 'retry-after': '2' },
        }),
    );
    const llm = createOpenAiProvider({
      baseUrl: 'https://x.test/v1',
      apiKey: 'sk-secret',
      model: 'm',
      fetch: f.fn,
    });
    const err = await errorOf(llm.complete({ prompt: 'p' }));
    expect(err).toBeInstanceOf(LlmError);
    expect(err?.code).toBe(code);
    expect(err?.status).toBe(status);
    expect(err?.retryable).toBe(retryable);
    expect(err?.message).toContain('details here');
    expect(err?.message).not.toContain('sk-secret');
    if (status === 429) expect(err?.retryAfterMs).toBe(2000);
  });

  it('reports malformed responses as bad_response', async () => {
    const notJson = fakeFetch(() => new Response('<html>', { status: 200 }));
    const llm1 = createOpenAiProvider({ baseUrl: 'https://x.test', model: 'm', fetch: notJson.fn });
    expect((await errorOf(llm1.complete({ prompt: 'p' })))?.code).toBe('bad_response');

    const noChoices = fakeFetch(() => new Response(JSON.stringify({ choices: [] })));
    const llm2 = createOpenAiProvider({ baseUrl: 'https://x.test', model: 'm', fetch: noChoices.fn });
    expect((await errorOf(llm2.complete({ prompt: 'p' })))?.code).toBe('bad_response');
  });

  it('maps network failures to a retryable provider_error', async () => {
    const f = fakeFetch(() => Promise.reject(new TypeError('fetch failed')));
    const llm = createOpenAiProvider({ baseUrl: 'https://x.test', model: 'm', fetch: f.fn });
    const err = await errorOf(llm.complete({ prompt: 'p' }));
    expect(err?.code).toBe('provider_error');
    expect(err?.retryable).toBe(true);
  });

  it('times out on its own deadline', async () => {
    const f = fakeFetch(hanging);
    const llm = createOpenAiProvider({ baseUrl: 'https://x.test', model: 'm', timeoutMs: 20, fetch: f.fn });
    const err = await errorOf(llm.complete({ prompt: 'p', signal: new AbortController().signal }));
    expect(err?.code).toBe('timeout');
    expect(err?.retryable).toBe(true);
    expect(f.calls[0]?.init?.signal?.aborted).toBe(true);
  });

  it('aborts the request when the caller aborts', async () => {
    const f = fakeFetch(hanging);
    const llm = createOpenAiProvider({
      baseUrl: 'https://x.test',
      model: 'm',
      timeoutMs: 10_000,
      fetch: f.fn,
    });
    const controller = new AbortController();
    const pending = errorOf(llm.complete({ prompt: 'p', signal: controller.signal }));
    await Promise.resolve();
    controller.abort();
    const err = await pending;
    expect(err?.code).toBe('aborted');
    expect(err?.retryable).toBe(false);
    expect(f.calls[0]?.init?.signal?.aborted).toBe(true);
  });

  // Regression: "runtime error text reaches run events and cards". A body that breaks while it is
  // read used to put the runtime's own message into the LlmError, which runs and cards show.
  it("keeps the runtime's words out of the error when the answer breaks while read, whole or streamed", async () => {
    const runtimeText = 'Network connection lost. internal error; reference = 9f8e7d';
    const broken = (contentType: string, first: string) =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode(first));
            c.error(new TypeError(runtimeText));
          },
        }),
        { headers: { 'content-type': contentType } },
      );
    const whole = createOpenAiProvider({
      baseUrl: 'https://x.test',
      model: 'm',
      fetch: fakeFetch(() => broken('application/json', '{"choices":')).fn,
    });
    const wholeErr = await errorOf(whole.complete({ prompt: 'p' }));
    expect(wholeErr).toMatchObject({ code: 'provider_error', retryable: true });
    expect(wholeErr?.message).toBe('LLM provider answer could not be read (the connection broke)');

    const streamed = createOpenAiProvider({
      baseUrl: 'https://x.test',
      model: 'm',
      fetch: fakeFetch(() =>
        broken('text/event-stream', 'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'),
      ).fn,
    });
    const streamErr = await errorOf(streamed.complete({ prompt: 'p', onDelta: () => {} }));
    expect(streamErr).toMatchObject({ code: 'provider_error', retryable: true });
    expect(streamErr?.message).toBe('LLM provider stream broke off (the connection broke)');
    for (const err of [wholeErr, streamErr]) {
      expect(err?.message).not.toContain('reference');
      expect(err?.message).not.toContain('Network connection lost');
    }
  });

  it('does not call out with an already-aborted signal', async () => {
    const f = fakeFetch(() => completion('x'));
    const llm = createOpenAiProvider({ baseUrl: 'https://x.test', model: 'm', fetch: f.fn });
    expect((await errorOf(llm.complete({ prompt: 'p', signal: AbortSignal.abort() })))?.code).toBe('aborted');
    expect(f.calls).toHaveLength(0);
  });
});
