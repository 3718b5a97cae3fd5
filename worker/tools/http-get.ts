import { parseRetryAfter } from '../contract/retry-after';
import { readBodyUpTo } from '../lib/bounded-body';
import { log } from '../lib/log';
import { isLoopbackHost, isPrivateHost, normalizeHost } from '../lib/private-address';
import { type Tool, type ToolContext, ToolError } from './tool';

export interface HttpGetOptions {
  /** Response bodies above this are refused rather than truncated, so state never holds half a JSON. */
  maxBytes?: number;
  /** Per-request cap, on top of the run's own signal. */
  timeoutMs?: number;
}

/** DESIGN.md "Limits and hardening": the body is read up to 1 MiB, the call given 10 s. */
export const DEFAULT_HTTP_GET_MAX_BYTES = 1024 * 1024;
export const DEFAULT_HTTP_GET_TIMEOUT_MS = 10_000;

/** One entry of HTTP_GET_ALLOW_HOSTS: a host or `*.suffix`, and a port or none (the default port). */
export interface AllowEntry {
  host: string;
  /** `*.suffix` entries cover subdomains only. */
  pattern: boolean;
  /** null: the scheme's default port only. */
  port: number | null;
}

/**
 * Parses `host`, `host:port`, `*.suffix`, `*.suffix:port`, `[v6]` and `[v6]:port` (a bare IPv6
 * address is a host without port); undefined for an entry that means nothing (empty, `*`, a bad port).
 */
export function parseAllowEntry(raw: string): AllowEntry | undefined {
  const entry = raw.trim().toLowerCase();
  let host = entry;
  let port: string | undefined;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) return undefined;
    host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      port = rest.slice(1);
    }
  } else if (entry.split(':').length === 2) {
    [host = '', port] = entry.split(':');
  }
  host = normalizeHost(host);
  if (host === '' || host === '*') return undefined;
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return undefined;
  const portNumber = port === undefined ? null : Number(port);
  if (portNumber !== null && (portNumber < 1 || portNumber > 65_535)) return undefined;
  const pattern = host.startsWith('*.');
  if (pattern && host.length <= 2) return undefined;
  return { host: pattern ? host.slice(1) : host, pattern, port: portNumber };
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * `exact` when an allow-list entry names this very host, `pattern` when only a `*.suffix` entry
 * covers it, each on the URL's port: an entry without a port allows the scheme's default port
 * only, `host:port` that port. The difference matters: only an exact entry may open a private
 * address. `*.example.com` covers `a.example.com` and `a.b.example.com`, not `example.com` itself;
 * a bare `*` is ignored so nobody can allow the whole internet by accident.
 */
export function matchAllowed(url: URL, allowHosts: readonly string[]): 'exact' | 'pattern' | null {
  const host = normalizeHost(url.hostname);
  if (host === '') return null;
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
  let result: 'pattern' | null = null;
  for (const raw of allowHosts) {
    const entry = parseAllowEntry(raw);
    if (!entry) continue;
    const portOk = entry.port === null ? url.port === '' : entry.port === port;
    if (!portOk) continue;
    if (!entry.pattern && entry.host === host) return 'exact';
    if (entry.pattern && host.endsWith(entry.host) && host.length > entry.host.length) result = 'pattern';
  }
  return result;
}

/**
 * Throws a ToolError explaining why `url` may not be fetched; returns the parsed URL otherwise.
 * It must parse, be `https` (`http` only to a loopback host), carry no credentials, and its host
 * and port must be allow-listed (HTTP_GET_ALLOW_HOSTS).
 */
export function checkUrl(rawUrl: string, allowHosts: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    // Without its query, which may carry a value from the state (a token, say).
    throw new ToolError('bad_args', `http_get: not a valid URL: ${rawUrl.split('?')[0]?.slice(0, 200)}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new ToolError(
      'not_allowed',
      url.protocol === 'http:'
        ? `http_get: plain http is allowed only to a loopback host, not ${url.hostname}; use https`
        : `http_get: only https URLs are allowed, not ${url.protocol}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new ToolError('not_allowed', 'http_get: URLs with credentials are not allowed');
  }
  const match = matchAllowed(url, allowHosts);
  if (match === null) {
    throw new ToolError(
      'not_allowed',
      `http_get: ${url.host} (host and port) is not in the allow-list HTTP_GET_ALLOW_HOSTS`,
    );
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
  const { bytes, truncated } = await readBodyUpTo(response, maxBytes);
  if (truncated) throw tooLarge();
  return bytes;
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
      throw new ToolError('timeout', `http_get: ${describe(url)} timed out`, { cause: err });
    // The runtime's own words stay in the log: they can carry internal detail.
    log('info', 'http_get could not reach its target', { target: describe(url), err });
    throw new ToolError('network', `http_get: ${describe(url)} could not be reached`, { cause: err });
  }
}

/**
 * Args `{url}` (a URL template: values substituted into it are percent-encoded). Returns
 * `{status, body}`, the body parsed when the response says it is JSON. A non-2xx status is a
 * ToolError (code `http_status`), so graphs route it with `tool_error`; so is a redirect, which is
 * never followed (its target was never checked against the allow-list).
 */
export function createHttpGetTool(options: HttpGetOptions = {}): Tool {
  const maxBytes = options.maxBytes ?? DEFAULT_HTTP_GET_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_GET_TIMEOUT_MS;
  return {
    name: 'http_get',
    urlArgs: ['url'],
    async run(args, ctx) {
      if (typeof args.url !== 'string') throw new ToolError('bad_args', 'http_get needs a string "url"');
      if (ctx.signal.aborted) throw new ToolError('aborted', 'http_get: aborted');
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
      const url = checkUrl(args.url, ctx.allowHosts);
      const response = await fetchChecked(url, ctx, signal);
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel().catch(() => undefined);
        throw new ToolError(
          'redirect',
          `http_get: ${describe(url)} answered a redirect (HTTP ${response.status}); redirects are not followed`,
        );
      }
      if (response.status < 200 || response.status >= 300) {
        await response.body?.cancel().catch(() => undefined);
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        throw new ToolError('http_status', `http_get: ${describe(url)} returned HTTP ${response.status}`, {
          status: response.status,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        });
      }
      let bytes: Uint8Array;
      try {
        bytes = await readCapped(response, maxBytes, url);
      } catch (err) {
        if (err instanceof ToolError) throw err;
        if (ctx.signal.aborted) throw new ToolError('aborted', 'http_get: aborted', { cause: err });
        if (signal.aborted)
          throw new ToolError('timeout', `http_get: ${describe(url)} timed out`, { cause: err });
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
    },
  };
}

export const httpGetTool: Tool = createHttpGetTool();
