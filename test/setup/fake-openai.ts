// A fake OpenAI-compatible chat-completions server on loopback, for testing the openai provider
// from inside workerd against a real HTTP peer. The request's `model` picks the behaviour:
//   ok            200, the content is a JSON echo of what the server received
//   status-<n>    HTTP <n> with an OpenAI-style error body (429 adds Retry-After: 7)
//   garbage       200 with a body that is not JSON
//   no-choices    200 with JSON lacking choices
//   hang          never answers; GET /__hung/<tag> tells whether the client closed the request
//                 (<tag> is the request's user message)
// With `stream: true` the answer is SSE chunks (`choices[0].delta.content`, a `finish_reason`
// chunk, a `usage` chunk when `stream_options.include_usage`, then `data: [DONE]`); the content
// is the same JSON echo, cut into 8-character pieces. Streaming models:
//   stream-drop        a few chunks, then the connection is destroyed mid-stream
//   stream-drop-once   like stream-drop on the first request per user message, then like ok
//   stream-no-done     a few chunks, then the response ends cleanly without finishing
//   stream-error       a chunk, then an `{"error": {...}}` event
//   stream-hang        a chunk, then nothing; GET /__hung/<tag> as for hang
//   stream-ignored     answers a whole (non-streamed) completion although asked to stream
// Servers that never stop talking (each sends until the client lets go, at most 64 MiB;
// GET /__hung/<tag> tells whether the client closed the request):
//   endless            200 JSON whose content string never ends
//   stream-endless     SSE content chunks of 1 KiB without end
//   stream-endless-line  one `data:` line that never ends
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

const CHUNK_CHARS = 8;
/** What an endless answer sends at most, should a client never let go. */
const ENDLESS_BYTES = 64 * 1024 * 1024;

/**
 * Writes `piece` again and again (after `head`), honouring backpressure, until the client closes;
 * answers how many bytes it wrote.
 */
async function sendEndless(res: ServerResponse, head: string, piece: string): Promise<number> {
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  res.write(head);
  let sent = head.length;
  while (!closed && sent < ENDLESS_BYTES) {
    sent += piece.length;
    if (!res.write(piece)) await new Promise((r) => res.once('drain', r).once('close', r));
  }
  res.end();
  return sent;
}

function chunk(model: string, delta: Record<string, unknown>, finish: string | null = null) {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-fake',
    object: 'chat.completion.chunk',
    model: `${model}-served`,
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;
}

export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  // tag → whether the client closed the request before an answer
  const hung = new Map<string, boolean>();
  // tag → bytes an endless answer wrote before the client let go
  const endlessSent = new Map<string, number>();
  // user messages seen by stream-drop-once
  const dropped = new Set<string>();
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://fake');
      if (req.method === 'GET' && url.pathname.startsWith('/__hung/')) {
        const tag = decodeURIComponent(url.pathname.slice('/__hung/'.length));
        return send(res, 200, {
          seen: hung.has(tag),
          closed: hung.get(tag) ?? false,
          sent: endlessSent.get(tag) ?? null,
        });
      }
      if (req.method !== 'POST' || !url.pathname.endsWith('/chat/completions')) {
        return send(res, 404, { error: { message: `no route ${req.method} ${url.pathname}` } });
      }
      const raw = await readBody(req);
      let body: {
        model?: string;
        messages?: { role: string; content: string }[];
        stream?: boolean;
        stream_options?: { include_usage?: boolean };
      };
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
      if (model === 'endless' || model === 'stream-endless' || model === 'stream-endless-line') {
        const tag = body.messages?.at(-1)?.content ?? '';
        hung.set(tag, false);
        res.on('close', () => hung.set(tag, true));
        res.writeHead(200, {
          'content-type': model === 'endless' ? 'application/json' : 'text/event-stream',
        });
        const sent = await (model === 'endless'
          ? sendEndless(res, '{"choices":[{"message":{"role":"assistant","content":"', 'x'.repeat(16 * 1024))
          : model === 'stream-endless-line'
            ? sendEndless(res, 'data: ', 'x'.repeat(16 * 1024))
            : sendEndless(
                res,
                chunk(model, { role: 'assistant', content: '' }),
                chunk(model, { content: 'y'.repeat(1024) }),
              ));
        endlessSent.set(tag, sent);
        return;
      }
      const echo = {
        method: req.method,
        path: url.pathname,
        authorization: req.headers.authorization ?? null,
        content_type: req.headers['content-type'] ?? null,
        body,
      };
      const tag = body.messages?.at(-1)?.content ?? '';
      if (body.stream && model !== 'stream-ignored') {
        const text = JSON.stringify(echo);
        const pieces = text.match(new RegExp(`[\\s\\S]{1,${CHUNK_CHARS}}`, 'g')) ?? [];
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(chunk(model, { role: 'assistant', content: '' }));
        const drops = model === 'stream-drop' || (model === 'stream-drop-once' && !dropped.has(tag));
        if (model === 'stream-drop-once') dropped.add(tag);
        const upTo =
          drops || model === 'stream-no-done'
            ? 3
            : model === 'stream-error' || model === 'stream-hang'
              ? 1
              : pieces.length;
        for (let i = 0; i < upTo; i++) {
          res.write(chunk(model, { content: pieces[i] }));
          await new Promise((r) => setTimeout(r, 5));
        }
        if (drops) return res.destroy();
        if (model === 'stream-no-done') return res.end();
        if (model === 'stream-error') {
          res.write(
            `data: ${JSON.stringify({ error: { message: 'overloaded, try later', type: 'server_error' } })}\n\n`,
          );
          return res.end();
        }
        if (model === 'stream-hang') {
          hung.set(tag, false);
          req.socket.on('close', () => hung.set(tag, true));
          return;
        }
        res.write(chunk(model, {}, 'stop'));
        if (body.stream_options?.include_usage) {
          res.write(
            `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', model: `${model}-served`, choices: [], usage: { prompt_tokens: 11, completion_tokens: pieces.length, total_tokens: 11 + pieces.length } })}\n\n`,
          );
        }
        res.write('data: [DONE]\n\n');
        return res.end();
      }
      return send(res, 200, {
        id: 'chatcmpl-fake',
        object: 'chat.completion',
        model: `${model}-served`,
        choices: [
          { index: 0, message: { role: 'assistant', content: JSON.stringify(echo) }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
      });
    } catch (err) {
      send(res, 500, { error: { message: String(err) } });
    }
  });
  return listenOnLoopback(server);
}
