import { parseRetryAfter } from '../lib/retry-after';
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

function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

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

function parseIpv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1, 5).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function isNonPublicIpv4(parts: readonly number[]): boolean {
  const [a = 0, b = 0] = parts;
  return (
    a === 0 || // 0.0.0.0/8, "this network"
    a === 10 ||
    a === 127 ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127) // carrier-grade NAT
  );
}

/** Parses the compressed hex form the URL parser produces (it never emits dotted IPv4 tails). */
function parseIpv6(host: string): number[] | null {
  if (!host.includes(':')) return null;
  const halves = host.split('::');
  if (halves.length > 2) return null;
  const toGroups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = toGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? toGroups(halves[1] ?? '') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const parsed = groups.map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? Number.parseInt(g, 16) : Number.NaN));
  return parsed.some(Number.isNaN) ? null : parsed;
}

function isNonPublicIpv6(g: readonly number[]): boolean {
  const first = g[0] ?? 0;
  const allZeroUntil = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (allZeroUntil(8)) return true; // ::
  if (allZeroUntil(7) && g[7] === 1) return true; // ::1
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  const embedded = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach IPv4 hosts: judge the IPv4.
  if (allZeroUntil(5) && g[5] === 0xffff) return isNonPublicIpv4(embedded(g[6] ?? 0, g[7] ?? 0));
  if (first === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    return isNonPublicIpv4(embedded(g[6] ?? 0, g[7] ?? 0));
  }
  return false;
}

/**
 * True for literal loopback, private, link-local and unspecified addresses and `localhost` names.
 * Names that merely resolve to such addresses cannot be checked here (workerd exposes no DNS), which
 * is acceptable because Workers' own fetch cannot reach private networks.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = normalizeHost(hostname);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const v4 = parseIpv4(host);
  if (v4) return isNonPublicIpv4(v4);
  const v6 = parseIpv6(host);
  if (v6) return isNonPublicIpv6(v6);
  return false;
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
      throw new ToolError('timeout', `http_get: ${describe(url)} timed out`, { cause: err });
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
