// A webhook receiver on loopback for the webhook tests (allow-listed by WEBHOOK_ALLOW_HOSTS in
// vitest.config.ts). Each test uses its own key:
//   POST /hook/<key>        records the delivery (headers and body) and answers as told (200 by default)
//   PUT  /__script/<key>    tells it how to answer the next deliveries to <key>: a JSON list of
//                           steps, used in order, the last one repeating:
//                           {status?, body?, bytes?, hang?, location?}
//                           (`bytes`: a body of that many "x"; `hang`: never answer)
//   GET  /__received/<key>  what <key> received: [{headers, body, at}]
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './listen';

export interface WebhookReceiver {
  url: string;
  close(): Promise<void>;
}

interface Step {
  status?: number;
  body?: string;
  bytes?: number;
  hang?: boolean;
  location?: string;
}

interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

function json(res: ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const scripts = new Map<string, Step[]>();
  const received = new Map<string, Received[]>();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://receiver');
    const [, kind, rawKey] = /^\/(hook|__script|__received)\/(.+)$/.exec(url.pathname) ?? [];
    const key = decodeURIComponent(rawKey ?? '');
    if (!kind || !key) return json(res, 404, { error: `no route ${url.pathname}` });
    const body = await readBody(req);
    if (kind === '__script' && req.method === 'PUT') {
      scripts.set(key, JSON.parse(body) as Step[]);
      return json(res, 200, { ok: true });
    }
    if (kind === '__received' && req.method === 'GET') return json(res, 200, received.get(key) ?? []);
    if (kind !== 'hook' || req.method !== 'POST') return json(res, 405, { error: 'POST only' });
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    const list = received.get(key) ?? [];
    list.push({ headers, body, at: Date.now() });
    received.set(key, list);
    const script = scripts.get(key) ?? [];
    const step = (script.length > 1 ? script.shift() : script[0]) ?? {};
    if (step.hang) return; // closed by the server's close()
    const answer = step.bytes !== undefined ? 'x'.repeat(step.bytes) : (step.body ?? '{"ok":true}');
    res.writeHead(step.status ?? 200, {
      'content-type': 'application/json',
      ...(step.location ? { location: step.location } : {}),
    });
    res.end(answer);
  });
  return listenOnLoopback(server);
}
