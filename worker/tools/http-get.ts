import { isPrivateHost, normalizeHost } from '../lib/private-address';
import { type Tool, type ToolContext, ToolError } from './tool';

export interface HttpGetOptions {
  /** Response bodies above this are refused rather than truncated, so state never holds half a JSON. */
  maxBytes?: number;
  /** Per-request cap, on top of the run's own signal. */
  timeoutMs?: number;
  /** Each hop is re-checked against the allow-list and the private-address rules. */
  maxRedirects?: number;
}

export const DEFAULT_HTTP_GET_MAX_BYTES = 256 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_REDIRECTS = 3;

/**
 * `exact` when an allow-list entry names this very host, `pattern` when only a `*.suffix` entry
 * covers it. The difference matters: only an exact entry may open a private address.
 * `*.example.com` covers `a.example.com` and `a.b.example.com`, not `example.com` itself; a bare `*`
 * is ignored so nobody can allow the whole internet by accident. Ports are not part of the match.
 */
export function matchAllowedHost(
  hostname: string,
  allowHosts: readonly string[],
): 'exact' | 'pattern' | null {
  const host = normalizeHost(hostname);
  if (host === '') return null;
  let result: 'pattern' | null = null;
  for (const raw of allowHosts) {
    const entry = normalizeHost(raw);
    if (entry.startsWith('*.')) {
      const suffix = entry.slice(1);
      if (suffix.length > 1 && host.endsWith(suffix) && host.length > suffix.length) result = 'pattern';
    } else if (entry !== '' && entry !== '*' && entry === host) {
      return 'exact';
    }
  }
  return result;
}

/** Throws a ToolError explaining why `url` may not be fetched; returns the parsed URL otherwise. */
export function checkUrl(rawUrl: string, allowHosts: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ToolError('bad_args', `http_get: not a valid URL: ${rawUrl.slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ToolError('not_allowed', `http_get: only http and https URLs are allowed, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ToolError('not_allowed', 'http_get: URLs with credentials are not allowed');
  }
  const match = matchAllowedHost(url.hostname, allowHosts);
  if (match === null) {
    throw new ToolError('not_allowed', `http_get: host ${url.hostname} is not in the allow-list`);
  }
  if (match === 'pattern' && isPrivateHost(url.hostname)) {
    throw new ToolError(
      'not_allowed',
      `http_get: ${url.hostname} is a private or loopback address; allow it by its exact name to fetch it`,
    );
  }
  return url;
}

/** Query strings may carry tokens rendered from state; messages show only origin and path. */
function describe(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

async function readCapped(response: Response, maxBytes: number, url: URL): Promise<Uint8Array> {
  const tooLarge = () =>
    new ToolError('too_large', `http_get: ${describe(url)} body exceeds ${maxBytes} bytes`);
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function isJsonContentType(contentType: string | null): boolean {
  const mime = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return mime === 'application/json' || mime.endsWith('+json');
}

async function fetchChecked(url: URL, ctx: ToolContext, signal: AbortSignal): Promise<Response> {
  try {
    return await ctx.fetch(url.toString(), {
      method: 'GET',
      redirect: 'manual',
      signal,
      headers: { accept: 'application/json, text/plain;q=0.9, */*;q=0.5' },
    });
  } catch (err) {
    if (ctx.signal.aborted) throw new ToolError('aborted', 'http_get: aborted', { cause: err });
    if (signal.aborted)
      throw new ToolError('network', `http_get: ${describe(url)} timed out`, { cause: err });
    const reason = err instanceof Error ? err.message : String(err);
    throw new ToolError('network', `http_get: ${describe(url)} failed: ${reason}`, { cause: err });
  }
}

/**
 * Args `{url}`. Returns `{status, body}`, the body parsed when the response says it is JSON.
 * A non-2xx status is a ToolError (code `http_status`), so graphs route it with `tool_error`.
 */
export function createHttpGetTool(options: HttpGetOptions = {}): Tool {
  const maxBytes = options.maxBytes ?? DEFAULT_HTTP_GET_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  return {
    name: 'http_get',
    async run(args, ctx) {
      if (typeof args.url !== 'string') throw new ToolError('bad_args', 'http_get needs a string "url"');
      if (ctx.signal.aborted) throw new ToolError('aborted', 'http_get: aborted');
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
      let url = checkUrl(args.url, ctx.allowHosts);
      for (let hop = 0; ; hop++) {
        const response = await fetchChecked(url, ctx, signal);
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location !== null) {
          await response.body?.cancel().catch(() => undefined);
          if (hop >= maxRedirects) {
            throw new ToolError(
              'redirect',
              `http_get: ${describe(url)} redirected more than ${maxRedirects} times`,
            );
          }
          let next: URL;
          try {
            next = new URL(location, url);
          } catch {
            throw new ToolError('redirect', `http_get: ${describe(url)} redirected to an invalid URL`);
          }
          try {
            url = checkUrl(next.toString(), ctx.allowHosts);
          } catch (err) {
            const why = err instanceof Error ? err.message : String(err);
            throw new ToolError('redirect', `http_get: refused redirect from ${describe(url)}: ${why}`);
          }
          continue;
        }
        if (response.status < 200 || response.status >= 300) {
          await response.body?.cancel().catch(() => undefined);
          throw new ToolError('http_status', `http_get: ${describe(url)} returned HTTP ${response.status}`);
        }
        let bytes: Uint8Array;
        try {
          bytes = await readCapped(response, maxBytes, url);
        } catch (err) {
          if (err instanceof ToolError) throw err;
          if (ctx.signal.aborted) throw new ToolError('aborted', 'http_get: aborted', { cause: err });
          throw new ToolError('network', `http_get: ${describe(url)} body could not be read`, { cause: err });
        }
        const text = new TextDecoder().decode(bytes);
        if (!isJsonContentType(response.headers.get('content-type')))
          return { status: response.status, body: text };
        try {
          return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
        } catch {
          throw new ToolError('bad_response', `http_get: ${describe(url)} sent invalid JSON`);
        }
      }
    },
  };
}

export const httpGetTool: Tool = createHttpGetTool();
