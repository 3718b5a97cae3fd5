import { describe, expect, it } from 'vitest';
import { checkUrl, createHttpGetTool, httpGetTool, matchAllowedHost } from './http-get';
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

describe('matchAllowedHost', () => {
  it('matches exact hosts and *.suffix patterns', () => {
    expect(matchAllowedHost('status.example.com', ['status.example.com'])).toBe('exact');
    expect(matchAllowedHost('STATUS.example.com.', ['status.example.com'])).toBe('exact');
    expect(matchAllowedHost('a.example.com', ['*.example.com'])).toBe('pattern');
    expect(matchAllowedHost('a.b.example.com', ['*.example.com'])).toBe('pattern');
    expect(matchAllowedHost('example.com', ['*.example.com'])).toBeNull();
    expect(matchAllowedHost('badexample.com', ['*.example.com'])).toBeNull();
    expect(matchAllowedHost('example.com', ['*'])).toBeNull();
    expect(matchAllowedHost('other.com', [])).toBeNull();
    expect(matchAllowedHost('[::1]', ['::1'])).toBe('exact');
  });
});

describe('checkUrl', () => {
  it('only allows http and https', () => {
    expect(() => checkUrl('ftp://a.example.com/x', ['a.example.com'])).toThrow(/only http and https/);
    expect(() => checkUrl('file:///etc/passwd', ['*.example.com'])).toThrow(ToolError);
    expect(() => checkUrl('not a url', ['a.example.com'])).toThrow(/not a valid URL/);
  });

  it('requires the host to be allow-listed', () => {
    expect(() => checkUrl('https://evil.com/', ['a.example.com'])).toThrow(/not in the allow-list/);
    expect(checkUrl('https://a.example.com/x', ['a.example.com']).pathname).toBe('/x');
  });

  it('refuses private addresses reached through a pattern, unless listed exactly', () => {
    expect(() => checkUrl('http://127.0.0.1/', ['*.0.0.1'])).toThrow(/private or loopback/);
    expect(() => checkUrl('http://app.localhost/', ['*.localhost'])).toThrow(/private or loopback/);
    expect(checkUrl('http://127.0.0.1:8080/', ['127.0.0.1']).port).toBe('8080');
    expect(checkUrl('http://[::1]/', ['[::1]']).hostname).toBe('[::1]');
  });

  it('refuses URLs with credentials', () => {
    expect(() => checkUrl('https://u:p@a.example.com/', ['a.example.com'])).toThrow(/credentials/);
  });
});

describe('http_get tool', () => {
  it('sends a GET with manual redirects and the run signal, and parses JSON', async () => {
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

  it('follows a redirect only after re-checking the target', async () => {
    const f = fakeFetch((url) =>
      url === 'https://a.example.com/old'
        ? new Response(null, { status: 301, headers: { location: '/new' } })
        : json({ moved: true }),
    );
    const out = await httpGetTool.run({ url: 'https://a.example.com/old' }, ctx(f.fn, ['a.example.com']));
    expect(out).toEqual({ status: 200, body: { moved: true } });
    expect(f.calls.map((c) => c.url)).toEqual(['https://a.example.com/old', 'https://a.example.com/new']);
  });

  it('refuses a redirect to a private address or a host off the list', async () => {
    const toLoopback = fakeFetch(
      () => new Response(null, { status: 302, headers: { location: 'http://127.0.0.1/' } }),
    );
    await expect(
      httpGetTool.run({ url: 'https://a.example.com/' }, ctx(toLoopback.fn, ['*.example.com', '*.0.0.1'])),
    ).rejects.toMatchObject({ code: 'redirect' });
    expect(toLoopback.calls).toHaveLength(1);

    const offList = fakeFetch(
      () => new Response(null, { status: 302, headers: { location: 'https://evil.com/' } }),
    );
    await expect(
      httpGetTool.run({ url: 'https://a.example.com/' }, ctx(offList.fn, ['a.example.com'])),
    ).rejects.toThrow(/refused redirect/);
  });

  it('stops after too many redirects', async () => {
    const f = fakeFetch(() => new Response(null, { status: 302, headers: { location: '/again' } }));
    const tool = createHttpGetTool({ maxRedirects: 2 });
    await expect(tool.run({ url: 'https://a.example.com/' }, ctx(f.fn, ['a.example.com']))).rejects.toThrow(
      /more than 2 times/,
    );
    expect(f.calls).toHaveLength(3);
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

  it('maps network failures', async () => {
    const f = fakeFetch(() => Promise.reject(new TypeError('connection refused')));
    await expect(
      httpGetTool.run({ url: 'https://a.example.com/' }, ctx(f.fn, ['a.example.com'])),
    ).rejects.toMatchObject({
      code: 'network',
    });
  });
});
