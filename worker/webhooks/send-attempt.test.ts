import { describe, expect, it } from 'vitest';
import { sendAttempt } from './send-attempt';

const request = (fetchFn: typeof fetch, url = 'https://hooks.example.com/in') => ({
  url,
  headers: { 'content-type': 'application/json' },
  body: '{}',
  timeoutMs: 1_000,
  allowHosts: [],
  fetch: fetchFn,
});

describe('one delivery attempt', () => {
  it('is not sent to a target the rules refuse', async () => {
    let called = false;
    const out = await sendAttempt(
      request(
        (async () => {
          called = true;
          return new Response('');
        }) as typeof fetch,
        'http://127.0.0.1:1/hook',
      ),
    );
    expect(called).toBe(false);
    expect(out).toMatchObject({ kind: 'failed', responseStatus: null });
    expect(out.error).toMatch(/^not sent: http is allowed only/);
  });

  it('asks fetch not to follow redirects, and classifies the answer', async () => {
    let init: RequestInit | undefined;
    const answer = (status: number, body = '') =>
      sendAttempt(
        request((async (_u: RequestInfo | URL, i?: RequestInit) => {
          init = i;
          return new Response(body, { status });
        }) as typeof fetch),
      );
    expect((await answer(204)).kind).toBe('succeeded');
    expect(init?.redirect).toBe('manual');
    expect(init?.method).toBe('POST');
    expect((await answer(410)).kind).toBe('gone');
    expect(await answer(301)).toMatchObject({
      kind: 'failed',
      error: 'redirects are not followed (HTTP 301)',
    });
    expect(await answer(429, 'slow down')).toMatchObject({
      kind: 'failed',
      responseBody: 'slow down',
      error: 'HTTP 429',
    });
  });

  it('keeps 1 KiB of the answer without cutting a character in two', async () => {
    const body = `${'a'.repeat(1023)}é${'b'.repeat(5000)}`;
    const out = await sendAttempt(request((async () => new Response(body, { status: 500 })) as typeof fetch));
    expect(out.responseBody).toBe('a'.repeat(1023));
  });

  // Regression: "runtime error text reaches the delivery log". The runtime's message used to be
  // stored as the attempt's error, which admins read; it goes to the log only now.
  it("a network error is a failure in fixed words, never the runtime's", async () => {
    const out = await sendAttempt(
      request((async () => {
        throw new TypeError('connect ECONNREFUSED 10.0.0.7:443; internal error; reference = abc');
      }) as typeof fetch),
    );
    expect(out).toMatchObject({
      kind: 'failed',
      responseStatus: null,
      error: 'network error: no connection to https://hooks.example.com',
    });
  });

  it('an answer that breaks while read is a failure in fixed words', async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('partial'));
        c.error(new TypeError('Network connection lost. internal error; reference = def'));
      },
    });
    const out = await sendAttempt(
      request((async () => new Response(broken, { status: 500 })) as typeof fetch),
    );
    expect(out).toMatchObject({
      kind: 'failed',
      responseStatus: 500,
      error: 'the answer could not be read (the connection broke)',
    });
  });
});
