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
});
