import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { LlmError } from '../worker/providers/llm-provider';
import { createOpenAiProvider } from '../worker/providers/openai-provider';
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
});
