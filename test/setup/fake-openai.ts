// A fake OpenAI-compatible chat-completions server on loopback, for testing the openai provider
// from inside workerd against a real HTTP peer. The request's `model` picks the behaviour:
//   ok            200, the content is a JSON echo of what the server received
//   status-<n>    HTTP <n> with an OpenAI-style error body (429 adds Retry-After: 7)
//   garbage       200 with a body that is not JSON
//   no-choices    200 with JSON lacking choices
//   hang          never answers; GET /__hung/<tag> tells whether the client closed the request
//                 (<tag> is the request's user message)
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './listen';

export interface FakeOpenAi {
  url: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  // tag → whether the client closed the request before an answer
  const hung = new Map<string, boolean>();
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://fake');
      if (req.method === 'GET' && url.pathname.startsWith('/__hung/')) {
        const tag = decodeURIComponent(url.pathname.slice('/__hung/'.length));
        return send(res, 200, { seen: hung.has(tag), closed: hung.get(tag) ?? false });
      }
      if (req.method !== 'POST' || !url.pathname.endsWith('/chat/completions')) {
        return send(res, 404, { error: { message: `no route ${req.method} ${url.pathname}` } });
      }
      const raw = await readBody(req);
      let body: { model?: string; messages?: { role: string; content: string }[] };
      try {
        body = JSON.parse(raw);
      } catch {
        return send(res, 400, { error: { message: 'body is not JSON' } });
      }
      const model = body.model ?? '';
      const status = /^status-(\d{3})$/.exec(model);
      if (status) {
        const code = Number(status[1]);
        return send(
          res,
          code,
          { error: { message: `simulated ${code}`, type: 'test' } },
          code === 429 ? { 'retry-after': '7' } : {},
        );
      }
      if (model === 'garbage') return send(res, 200, '<html>not json</html>');
      if (model === 'no-choices') return send(res, 200, { id: 'x', choices: [] });
      if (model === 'hang') {
        const tag = body.messages?.at(-1)?.content ?? '';
        hung.set(tag, false);
        req.socket.on('close', () => hung.set(tag, true));
        return; // never answer
      }
      const echo = {
        method: req.method,
        path: url.pathname,
        authorization: req.headers.authorization ?? null,
        content_type: req.headers['content-type'] ?? null,
        body,
      };
      return send(res, 200, {
        id: 'chatcmpl-fake',
        object: 'chat.completion',
        model: `${model}-served`,
        choices: [
          { index: 0, message: { role: 'assistant', content: JSON.stringify(echo) }, finish_reason: 'stop' },
        ],
      });
    } catch (err) {
      send(res, 500, { error: { message: String(err) } });
    }
  });
  return listenOnLoopback(server);
}
