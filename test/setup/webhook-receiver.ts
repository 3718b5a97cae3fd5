// A webhook receiver on loopback for the webhook tests (allow-listed by WEBHOOK_ALLOW_HOSTS in
// vitest.config.ts). Each test uses its own key:
//   POST /hook/<key>        records the delivery (headers and body) and answers as told (200 by default)
//   PUT  /__script/<key>    tells it how to answer the next deliveries to <key>: a JSON list of
//                           steps, used in order, the last one repeating:
//                           {status?, body?, bytes?, hang?, hold?, location?}
//                           (`bytes`: a body of that many "x"; `hang`: never answer; `hold`: answer
//                           as told once the test releases <key>)
//   GET  /__received/<key>  what <key> received: [{headers, body, at}]
//   GET  /__held/<key>      how many deliveries to <key> are held and still open: {held}
//   POST /__release/<key>   answers the held deliveries to <key> and holds no more: {released}
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './listen';
import type { Received, Step } from './webhook-receiver-protocol';

export interface WebhookReceiver {
  url: string;
  close(): Promise<void>;
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
  /** Held deliveries per key: each answers as its step says when released. */
  const held = new Map<string, { res: ServerResponse; answer: () => void }[]>();
  const released = new Set<string>();
  const open = (key: string) => (held.get(key) ?? []).filter((h) => !h.res.destroyed && !h.res.writableEnded);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://receiver');
    const [, kind, rawKey] = /^\/(hook|__script|__received|__held|__release)\/(.+)$/.exec(url.pathname) ?? [];
    const key = decodeURIComponent(rawKey ?? '');
    if (!kind || !key) return json(res, 404, { error: `no route ${url.pathname}` });
    const body = await readBody(req);
    if (kind === '__script' && req.method === 'PUT') {
      scripts.set(key, JSON.parse(body) as Step[]);
      return json(res, 200, { ok: true });
    }
    if (kind === '__received' && req.method === 'GET') return json(res, 200, received.get(key) ?? []);
    if (kind === '__held' && req.method === 'GET') return json(res, 200, { held: open(key).length });
    if (kind === '__release' && req.method === 'POST') {
      const list = open(key);
      released.add(key);
      held.delete(key);
      for (const h of list) h.answer();
      return json(res, 200, { released: list.length });
    }
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
    const answer = () => {
      res.writeHead(step.status ?? 200, {
        'content-type': 'application/json',
        ...(step.location ? { location: step.location } : {}),
      });
      res.end(step.bytes !== undefined ? 'x'.repeat(step.bytes) : (step.body ?? '{"ok":true}'));
    };
    if (step.hold && !released.has(key)) {
      const list = held.get(key) ?? [];
      list.push({ res, answer });
      held.set(key, list);
      return;
    }
    answer();
  });
  return listenOnLoopback(server);
}
