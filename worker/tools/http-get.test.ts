import { describe, expect, it } from 'vitest';
import {
  checkUrl,
  createHttpGetTool,
  DEFAULT_HTTP_GET_MAX_BYTES,
  DEFAULT_HTTP_GET_TIMEOUT_MS,
  httpGetTool,
  matchAllowed,
  parseAllowEntry,
} from './http-get';
import { type ToolContext, ToolError } from './tool';

type Handler = (url: string, init: RequestInit | undefined) => Promise<Response> | Response;

function fakeFetch(handler: Handler) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    calls.push({ url, init });
    return handler(url, init);
  }) as typeof fetch;
  return { fn, calls };
}

function ctx(
  fetchFn: typeof fetch,
  allowHosts: string[],
  signal = new AbortController().signal,
): ToolContext {
  return { signal, fetch: fetchFn, allowHosts };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });

describe('the allow-list', () => {
  const m = (url: string, list: string[]) => matchAllowed(new URL(url), list);

  it('matches exact hosts and *.suffix patterns on the default port', () => {
    expect(m('https://status.example.com/', ['status.example.com'])).toBe('exact');
    expect(m('https://STATUS.example.com./', ['status.example.com'])).toBe('exact');
    expect(m('https://a.example.com/', ['*.example.com'])).toBe('pattern');
    expect(m('https://a.b.example.com/', ['*.example.com'])).toBe('pattern');
    expect(m('https://example.com/', ['*.example.com'])).toBeNull();
    expect(m('https://badexample.com/', ['*.example.com'])).toBeNull();
    expect(m('https://example.com/', ['*'])).toBeNull();
    expect(m('https://other.com/', [])).toBeNull();
    expect(m('http://[::1]/', ['::1'])).toBe('exact');
    expect(m('http://[::1]/', ['[::1]'])).toBe('exact');
  });

  it('allows another port only when the entry names it', () => {
    expect(m('https://status.example.com:8443/', ['status.example.com'])).toBeNull();
    expect(m('https://status.example.com:8443/', ['status.example.com:8443'])).toBe('exact');
    expect(m('https://status.example.com/', ['status.example.com:8443'])).toBeNull();
    expect(m('https://status.example.com/', ['status.example.com:443'])).toBe('exact');
    expect(m('https://a.example.com:9000/', ['*.example.com'])).toBeNull();
    expect(m('https://a.example.com:9000/', ['*.example.com:9000'])).toBe('pattern');
    expect(m('http://127.0.0.1:8080/', ['127.0.0.1'])).toBeNull();
    expect(m('http://127.0.0.1:8080/', ['127.0.0.1:8080'])).toBe('exact');
    expect(m('http://127.0.0.1:8081/', ['127.0.0.1:8080'])).toBeNull();
    expect(m('http://[::1]:8080/', ['[::1]:8080'])).toBe('exact');
  });

  it('ignores entries that mean nothing', () => {
    for (const bad of ['', '*', '*.', 'a.com:', 'a.com:x', 'a.com:70000', 'a.com:0', '[::1', '[::1]x']) {
      expect(parseAllowEntry(bad)).toBeUndefined();
    }
    expect(parseAllowEntry(' A.com:0443 ')).toEqual({ host: 'a.com', pattern: false, port: 443 });
    expect(parseAllowEntry('fe80::1')).toEqual({ host: 'fe80::1', pattern: false, port: null });
  });
});

describe('checkUrl', () => {
  it('requires a URL that parses, over https (http only to a loopback host)', () => {
    expect(() => checkUrl('ftp://a.example.com/x', ['a.example.com'])).toThrow(/only https/);
    expect(() => checkUrl('file:///etc/passwd', ['*.example.com'])).toThrow(ToolError);
    expect(() => checkUrl('not a url', ['a.example.com'])).toThrow(/not a valid URL/);
    expect(() => checkUrl('http://a.example.com/x', ['a.example.com'])).toThrow(/only to a loopback host/);
    expect(() => checkUrl('http://10.0.0.1/x', ['10.0.0.1'])).toThrow(/only to a loopback host/);
    expect(checkUrl('http://127.0.0.1/x', ['127.0.0.1']).pathname).toBe('/x');
  });

  it('requires the host and port to be allow-listed', () => {
    expect(() => checkUrl('https://evil.com/', ['a.example.com'])).toThrow(/not in the allow-list/);
    expect(checkUrl('https://a.example.com/x', ['a.example.com']).pathname).toBe('/x');
    expect(() => checkUrl('https://a.example.com:8443/x', ['a.example.com'])).toThrow(
      /a.example.com:8443 \(host and port\) is not in the allow-list HTTP_GET_ALLOW_HOSTS/,
    );
    expect(() => checkUrl('http://127.0.0.1:8080/', ['127.0.0.1'])).toThrow(/not in the allow-list/);
    expect(checkUrl('http://127.0.0.1:8080/', ['127.0.0.1:8080']).port).toBe('8080');
  });

  it('refuses private addresses reached through a pattern, unless listed exactly', () => {
    expect(() => checkUrl('http://127.0.0.1/', ['*.0.0.1'])).toThrow(/private or loopback/);
    expect(() => checkUrl('http://app.localhost/', ['*.localhost'])).toThrow(/private or loopback/);
    expect(checkUrl('http://[::1]/', ['[::1]']).hostname).toBe('[::1]');
  });

  it('refuses URLs with credentials', () => {
    expect(() => checkUrl('https://u:p@a.example.com/', ['a.example.com'])).toThrow(/credentials/);
  });
});

describe('http_get tool', () => {
  it('sends a GET that does not follow redirects, with the run signal, and parses JSON', async () => {
    const f = fakeFetch(() => json({ up: true }));
    const out = await httpGetTool.run(
      { url: 'https://status.example.com/vpn' },
      ctx(f.fn, ['*.example.com']),
    );
    expect(out).toEqual({ status: 200, body: { up: true } });
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]?.url).toBe('https://status.example.com/vpn');
    expect(f.calls[0]?.init?.method).toBe('GET');
    expect(f.calls[0]?.init?.redirect).toBe('manual');
    expect(f.calls[0]?.init?.signal).toBeInstanceOf(AbortSignal);
  });

  it('returns text bodies as strings', async () => {
    const f = fakeFetch(() => new Response('all good', { headers: { 'content-type': 'text/plain' } }));
    expect(await httpGetTool.run({ url: 'https://a.example.com/' }, ctx(f.fn, ['a.example.com']))).toEqual({
      status: 200,
      body: 'all good',
    });
  });

  it('refuses a host outside the allow-list without fetching', async () => {
    const f = fakeFetch(() => json({}));
    await expect(
      httpGetTool.run({ url: 'https://evil.com/' }, ctx(f.fn, ['a.example.com'])),
    ).rejects.toMatchObject({
      code: 'not_allowed',
    });
    expect(f.calls).toHaveLength(0);
  });

  it('requires a string url', async () => {
    const f = fakeFetch(() => json({}));
    await expect(httpGetTool.run({ url: 42 }, ctx(f.fn, ['a.example.com']))).rejects.toMatchObject({
      code: 'bad_args',
    });
  });

  it('never follows a redirect, not even to an allowed host', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const f = fakeFetch(() => new Response(null, { status, headers: { location: '/new' } }));
      await expect(
        httpGetTool.run({ url: 'https://a.example.com/old' }, ctx(f.fn, ['a.example.com'])),
      ).rejects.toMatchObject({ code: 'redirect', message: expect.stringContaining('not followed') });
      expect(f.calls.map((c) => c.url)).toEqual(['https://a.example.com/old']);
    }
  });

  it('gives up after 10 s and reads at most 1 MiB by default', async () => {
    expect(DEFAULT_HTTP_GET_TIMEOUT_MS).toBe(10_000);
    expect(DEFAULT_HTTP_GET_MAX_BYTES).toBe(1024 * 1024);
    const tool = createHttpGetTool({ timeoutMs: 20 });
    const hanging = fakeFetch(
      (_url, init) =>
        new Promise<Response>((_resolve, reject) =>
          init?.signal?.addEventListener('abort', () => reject(new DOMException('timeout', 'TimeoutError'))),
        ),
    );
    await expect(
      tool.run({ url: 'https://a.example.com/' }, ctx(hanging.fn, ['a.example.com'])),
    ).rejects.toMatchObject({ code: 'timeout', message: expect.stringContaining('timed out') });
    const big = fakeFetch(() => new Response('x'.repeat(DEFAULT_HTTP_GET_MAX_BYTES + 1)));
    await expect(
      httpGetTool.run({ url: 'https://a.example.com/' }, ctx(big.fn, ['a.example.com'])),
    ).rejects.toMatchObject({ code: 'too_large' });
  });

  it('turns a non-2xx status into a ToolError', async () => {
    const f = fakeFetch(() => json({ error: 'nope' }, 503));
    await expect(
      httpGetTool.run({ url: 'https://a.example.com/x?token=secret' }, ctx(f.fn, ['a.example.com'])),
    ).rejects.toSatisfy(
      (e: unknown) => e instanceof ToolError && e.code === 'http_status' && !e.message.includes('secret'),
    );
  });

  it('caps the body size, declared or streamed', async () => {
    const tool = createHttpGetTool({ maxBytes: 10 });
    const declared = fakeFetch(() => new Response('x'.repeat(11), { headers: { 'content-length': '11' } }));
    await expect(
      tool.run({ url: 'https://a.example.com/' }, ctx(declared.fn, ['a.example.com'])),
    ).rejects.toMatchObject({ code: 'too_large' });
    const streamed = fakeFetch(() => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode('abcd'));
          controller.close();
        },
      });
      return new Response(stream);
    });
    await expect(
      tool.run({ url: 'https://a.example.com/' }, ctx(streamed.fn, ['a.example.com'])),
    ).rejects.toMatchObject({ code: 'too_large' });
    const small = fakeFetch(() => new Response('0123456789'));
    expect(await tool.run({ url: 'https://a.example.com/' }, ctx(small.fn, ['a.example.com']))).toEqual({
      status: 200,
      body: '0123456789',
    });
  });

  it('reports invalid JSON', async () => {
    const f = fakeFetch(() => new Response('{oops', { headers: { 'content-type': 'application/json' } }));
    await expect(
      httpGetTool.run({ url: 'https://a.example.com/' }, ctx(f.fn, ['a.example.com'])),
    ).rejects.toMatchObject({
      code: 'bad_response',
    });
  });

  it('aborts the in-flight request when the run signal aborts', async () => {
    let seen: AbortSignal | undefined;
    const f = fakeFetch(
      (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          seen = init?.signal ?? undefined;
          seen?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        }),
    );
    const controller = new AbortController();
    const pending = httpGetTool.run(
      { url: 'https://a.example.com/' },
      ctx(f.fn, ['a.example.com'], controller.signal),
    );
    await Promise.resolve();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    expect(seen?.aborted).toBe(true);
  });

  it("maps network failures without the runtime's own words", async () => {
    const f = fakeFetch(() => Promise.reject(new TypeError('internal error; reference = abc123')));
    await expect(
      httpGetTool.run({ url: 'https://a.example.com/' }, ctx(f.fn, ['a.example.com'])),
    ).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof ToolError &&
        e.code === 'network' &&
        e.message === 'http_get: https://a.example.com/ could not be reached',
    );
  });
});
