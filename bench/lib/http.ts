// Small loopback HTTP helpers on node:http (lower and steadier overhead than fetch for timing).
import { Agent, type IncomingMessage, request } from 'node:http';

export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (no JSON encoding) when set. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** A reply's whole body: its text, and its JSON when the text is JSON. */
export function readBody(res: IncomingMessage): Promise<{ text: string; json: unknown }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ text, json });
    });
    res.on('error', reject);
  });
}

/** One request; resolves with the whole reply. Network errors reject. */
export function call(base: string, method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization ??= `Bearer ${opts.token}`;
    let payload: string | Buffer | undefined;
    if (opts.rawBody !== undefined) payload = opts.rawBody;
    else if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    const req = request(`${base}${path}`, { method, headers, agent }, (res) => {
      readBody(res).then(
        ({ text, json }) => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json }),
        reject,
      );
    });
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
