// A small HTTP server on loopback for graph runs' `http_get` nodes (allow-listed in tests by the
// HTTP_GET_ALLOW_HOSTS binding in vitest.config.ts), so tests can observe real side effects:
//   GET /count/<key>?delay_ms=N   counts a request for <key>, waits N ms, answers {key, n}
//   GET /__count/<key>            how many requests /count/<key> received: {key, n} (not counted)
//   GET /nul/json                 a JSON body whose strings and keys hold \u0000
//   GET /nul/text                 a text/plain body holding a NUL byte
//   GET /deep/<n>                 JSON nested <n> objects deep: {"d":{"d":…}}
//   GET /redirect/<key>           302 to /count/<key> (which a followed redirect would count)
//   GET /flaky/<key>?fail=N&status=S&retry_after=R
//                                 the first N requests for <key> answer HTTP S (default 503, with
//                                 `Retry-After: R` when given), later ones {key, n}; counted like
//                                 /count (read with /__count/<key>)
//   GET /demo-status/<product>    the dev status page of the demo seed (worker/dev/demo-graphs.ts)
import { createServer, type ServerResponse } from 'node:http';
import { demoStatus } from '../../worker/dev/demo-graphs';
import { listenOnLoopback } from './listen';

export interface LoopbackHttp {
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json') {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

export async function startLoopbackHttp(): Promise<LoopbackHttp> {
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    const count = /^\/(__)?count\/(.+)$/.exec(url.pathname);
    if (req.method !== 'GET') return send(res, 405, '{"error":"GET only"}');
    if (count) {
      const key = decodeURIComponent(count[2] ?? '');
      if (count[1] === undefined) counts.set(key, (counts.get(key) ?? 0) + 1);
      const body = JSON.stringify({ key, n: counts.get(key) ?? 0 });
      const delay = Number(url.searchParams.get('delay_ms') ?? 0);
      if (count[1] === undefined && delay > 0) {
        setTimeout(() => send(res, 200, body), delay);
        return;
      }
      return send(res, 200, body);
    }
    const demo = /^\/demo-status\/([^/]+)$/.exec(url.pathname);
    if (demo) {
      const { status, body } = demoStatus(decodeURIComponent(demo[1] ?? ''));
      return send(res, status, JSON.stringify(body));
    }
    const flaky = /^\/flaky\/(.+)$/.exec(url.pathname);
    if (flaky) {
      const key = decodeURIComponent(flaky[1] ?? '');
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      if (n <= Number(url.searchParams.get('fail') ?? 0)) {
        const status = Number(url.searchParams.get('status') ?? 503);
        const retryAfter = url.searchParams.get('retry_after');
        res.writeHead(status, {
          'content-type': 'application/json',
          ...(retryAfter ? { 'retry-after': retryAfter } : {}),
        });
        return res.end(JSON.stringify({ error: `failure ${n} of ${key}` }));
      }
      return send(res, 200, JSON.stringify({ key, n }));
    }
    if (url.pathname === '/nul/json') {
      // Written by hand: the escapes are what a server would send.
      return send(res, 200, '{"text":"a\\u0000b","ke\\u0000y":["x\\u0000"]}');
    }
    const deep = /^\/deep\/(\d+)$/.exec(url.pathname);
    if (deep) {
      const n = Math.min(10_000, Number(deep[1]));
      return send(res, 200, `${'{"d":'.repeat(n)}0${'}'.repeat(n)}`);
    }
    const redirect = /^\/redirect\/(.+)$/.exec(url.pathname);
    if (redirect) {
      res.writeHead(302, { location: `/count/${redirect[1]}` });
      return res.end();
    }
    if (url.pathname === '/nul/text') return send(res, 200, 'a\u0000b', 'text/plain; charset=utf-8');
    return send(res, 404, JSON.stringify({ error: `no route ${url.pathname}` }));
  });
  return listenOnLoopback(server);
}
