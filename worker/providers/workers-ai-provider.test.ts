import { describe, expect, it } from 'vitest';
import { type AiRunner, createWorkersAiProvider, DEFAULT_WORKERS_AI_MODEL } from './workers-ai-provider';

function fakeAi(
  answer: (model: string, inputs: unknown, signal: AbortSignal | undefined) => Promise<unknown>,
) {
  const calls: { model: string; inputs: unknown }[] = [];
  const binding: AiRunner = {
    run(model, inputs, options) {
      calls.push({ model, inputs });
      return answer(model, inputs, options?.signal);
    },
  };
  return { binding, calls };
}

describe('workers-ai provider', () => {
  it('sends messages to the default model and extracts response', async () => {
    const ai = fakeAi(async () => ({ response: 'hi there' }));
    const llm = createWorkersAiProvider({ binding: ai.binding });
    const out = await llm.complete({ prompt: 'Hello', system: 'Be kind' });
    expect(out).toEqual({ text: 'hi there', model: DEFAULT_WORKERS_AI_MODEL });
    expect(llm.name).toBe('workers-ai');
    expect(ai.calls[0]).toEqual({
      model: '@cf/meta/llama-3.1-8b-instruct',
      inputs: {
        messages: [
          { role: 'system', content: 'Be kind' },
          { role: 'user', content: 'Hello' },
        ],
      },
    });
  });

  it('accepts the chat-completions output shape', async () => {
    const ai = fakeAi(async () => ({ choices: [{ message: { content: 'from choices' } }] }));
    const llm = createWorkersAiProvider({ binding: ai.binding, model: '@cf/other' });
    expect(await llm.complete({ prompt: 'x' })).toEqual({ text: 'from choices', model: '@cf/other' });
  });

  it('reports output without text as bad_response', async () => {
    const llm = createWorkersAiProvider({ binding: fakeAi(async () => ({ nope: 1 })).binding });
    await expect(llm.complete({ prompt: 'x' })).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('maps binding errors', async () => {
    const capacity = createWorkersAiProvider({
      binding: fakeAi(async () => Promise.reject(new Error('3040: Capacity temporarily exceeded'))).binding,
    });
    await expect(capacity.complete({ prompt: 'x' })).rejects.toMatchObject({
      code: 'rate_limited',
      retryable: true,
    });
    const other = createWorkersAiProvider({
      binding: fakeAi(async () => Promise.reject(new Error('oops'))).binding,
    });
    await expect(other.complete({ prompt: 'x' })).rejects.toMatchObject({
      code: 'provider_error',
      retryable: true,
    });
  });

  // Regression: "runtime error text reaches run events and cards". The binding's own message used
  // to be quoted in rate-limit and refusal errors; only its numeric code is kept now.
  it("keeps the binding's words out of every error, its code excepted", async () => {
    const cases = [
      [
        '3040: Capacity temporarily exceeded, internal error; reference = abc123',
        'rate_limited',
        'Workers AI is rate limited (Workers AI code 3040)',
      ],
      [
        '5007: invalid input at worker/ai.js:12:3',
        'bad_request',
        'Workers AI refused the request (Workers AI code 5007)',
      ],
      ['TypeError: Cannot read properties of undefined', 'provider_error', 'Workers AI failed'],
    ] as const;
    for (const [thrown, code, message] of cases) {
      const llm = createWorkersAiProvider({
        binding: fakeAi(async () => Promise.reject(new Error(thrown))).binding,
      });
      await expect(llm.complete({ prompt: 'x' })).rejects.toMatchObject({ code, message });
    }
  });

  // Regression: "LLM output size unbounded in hub memory": a streamed answer was kept whole
  // whatever its size. Reading stops past the request's bound now.
  it('stops reading an answer past maxOutputBytes, streamed or whole: too_large', async () => {
    let cancelled = false;
    const endless = fakeAi(
      async () =>
        new ReadableStream<Uint8Array>({
          pull(c) {
            c.enqueue(new TextEncoder().encode(`data: {"response":"${'w'.repeat(512)}"}\n\n`));
          },
          cancel() {
            cancelled = true;
          },
        }),
    );
    const pieces: string[] = [];
    await expect(
      createWorkersAiProvider({ binding: endless.binding }).complete({
        prompt: 'x',
        maxOutputBytes: 2048,
        onDelta: (t) => pieces.push(t),
      }),
    ).rejects.toMatchObject({ code: 'too_large', retryable: false });
    expect(pieces.join('').length).toBeLessThanOrEqual(2048);
    expect(cancelled).toBe(true);
    const whole = fakeAi(async () => ({ response: 'v'.repeat(4096) }));
    await expect(
      createWorkersAiProvider({ binding: whole.binding }).complete({ prompt: 'x', maxOutputBytes: 2048 }),
    ).rejects.toMatchObject({ code: 'too_large' });
  });

  it('aborts promptly even if the binding ignores the signal', async () => {
    let passed: AbortSignal | undefined;
    const ai = fakeAi((_m, _i, signal) => {
      passed = signal;
      return new Promise(() => undefined);
    });
    const llm = createWorkersAiProvider({ binding: ai.binding });
    const controller = new AbortController();
    const pending = llm.complete({ prompt: 'x', signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    expect(passed?.aborted).toBe(true);
  });

  it('times out', async () => {
    const llm = createWorkersAiProvider({
      binding: fakeAi(() => new Promise(() => undefined)).binding,
      timeoutMs: 10,
    });
    await expect(llm.complete({ prompt: 'x' })).rejects.toMatchObject({ code: 'timeout' });
  });

  it('streams: asks for stream: true and reads the SSE body, usage included', async () => {
    const body = [
      'data: {"response":"Hel"}\n\n',
      'data: {"response":"lo"}\n\n',
      'data: {"response":"","usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}\n\n',
      'data: [DONE]\n\n',
    ];
    const ai = fakeAi(async () => sseBody(body));
    const pieces: string[] = [];
    const out = await createWorkersAiProvider({ binding: ai.binding }).complete({
      prompt: 'hi',
      onDelta: (t) => pieces.push(t),
    });
    expect(pieces).toEqual(['Hel', 'lo']);
    expect(out).toEqual({
      text: 'Hello',
      model: DEFAULT_WORKERS_AI_MODEL,
      usage: { prompt_tokens: 4, completion_tokens: 2 },
    });
    expect(ai.calls[0]?.inputs).toMatchObject({ stream: true });
  });

  it('fails a stream that ends before [DONE], and aborts it on cancel', async () => {
    const cut = fakeAi(async () => sseBody(['data: {"response":"Hel"}\n\n']));
    await expect(
      createWorkersAiProvider({ binding: cut.binding }).complete({ prompt: 'x', onDelta: () => {} }),
    ).rejects.toMatchObject({ code: 'provider_error' });
    let cancelled = false;
    const never = fakeAi(
      async () =>
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode('data: {"response":"a"}\n\n'));
          },
          cancel() {
            cancelled = true;
          },
        }),
    );
    const ctl = new AbortController();
    const pending = createWorkersAiProvider({ binding: never.binding }).complete({
      prompt: 'x',
      signal: ctl.signal,
      onDelta: () => ctl.abort(),
    });
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    expect(cancelled).toBe(true);
  });
});

function sseBody(frames: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const f of frames) c.enqueue(enc.encode(f));
      c.close();
    },
  });
}
