import { describe, expect, it } from 'vitest';
import { createLlmProvider, LlmConfigError } from './create-provider';

describe('createLlmProvider', () => {
  it('builds the fake provider', async () => {
    const llm = createLlmProvider({ provider: 'fake' });
    expect(llm.name).toBe('fake');
    expect((await llm.complete({ prompt: 'x' })).text).toMatch(/^\[fake\]/);
  });

  it('builds the openai provider with the injected fetch', async () => {
    const seen: string[] = [];
    const fetchFn = (async (input: RequestInfo | URL) => {
      seen.push(String(input));
      return new Response(JSON.stringify({ choices: [{ message: { content: 'ok' } }] }));
    }) as typeof fetch;
    const llm = createLlmProvider({
      provider: 'openai',
      openai: { baseUrl: 'https://llm.test/v1', model: 'm', apiKey: 'k', timeoutMs: 1000 },
      fetch: fetchFn,
    });
    expect(llm.name).toBe('openai');
    expect(await llm.complete({ prompt: 'x' })).toEqual({ text: 'ok', model: 'm' });
    expect(seen).toEqual(['https://llm.test/v1/chat/completions']);
  });

  it('builds the workers-ai provider', async () => {
    const llm = createLlmProvider({
      provider: 'workers-ai',
      ai: { binding: { run: async () => ({ response: 'r' }) } },
    });
    expect(llm.name).toBe('workers-ai');
    expect((await llm.complete({ prompt: 'x' })).text).toBe('r');
  });

  it('rejects incomplete configuration', () => {
    expect(() => createLlmProvider({ provider: 'openai' })).toThrow(LlmConfigError);
    expect(() => createLlmProvider({ provider: 'openai', openai: { baseUrl: 'nope', model: 'm' } })).toThrow(
      /not a URL/,
    );
    expect(() => createLlmProvider({ provider: 'workers-ai' })).toThrow(/AI binding/);
    expect(() => createLlmProvider({ provider: 'other' as 'fake' })).toThrow(/unknown LLM provider/);
  });
});
