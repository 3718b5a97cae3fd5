// Token streaming, end to end: the time from a token leaving an LLM provider to the client's
// `node_delta` frame that carries it, with many runs streaming at once. The provider is an
// OpenAI-compatible server in this process (SSE chunks, as OpenAI sends them), so the moment each
// token is written and the moment the client parses the frame holding it are read from one clock.
// Through: the hub's openai provider (eventsource-parser), the executor, the 50 ms coalescing,
// the hub's broadcast, the Worker's SSE adapter and wrangler dev's proxy.
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { call, percentile } from './lib/http';
import { Subscriber } from './lib/sse-client';
import { startStack } from './lib/stack';

export interface TokenStreamResult {
  runs: number;
  tokensPerRun: number;
  tokenIntervalMs: number;
  /** Token → client latencies, ms, every token of every run. */
  latencies: number[];
  p50: number;
  p99: number;
  /** node_delta frames received per run (coalescing: at most one per 50 ms). */
  framesPerRun: number;
  /** Tokens that never reached their client, and runs that did not complete. */
  lost: number;
  failedRuns: number;
}

interface Held {
  res: ServerResponse;
  sentAt: number[];
}

/**
 * An OpenAI-compatible server whose streams wait until `release(tag)` (so the client is
 * subscribed before the first token), then write `w<i> ` tokens every `intervalMs`, each in its
 * own chunk, with usage and `[DONE]` at the end. `tag` is the request's user message.
 */
async function streamingProvider(tokens: number, intervalMs: number) {
  const held = new Map<string, Held>();
  const sent = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messages: { content: string }[] };
      const tag = body.messages.at(-1)?.content ?? '';
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const times: number[] = [];
      sent.set(tag, times);
      held.set(tag, { res, sentAt: times });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ object: 'chat.completion.chunk', model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    sent,
    /** Resolves once the server has the request for `tag`. */
    async waitFor(tag: string, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (!held.has(tag)) {
        if (Date.now() > until) throw new Error(`the provider never got the request of ${tag}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async release(tag: string) {
      const h = held.get(tag);
      if (!h) throw new Error(`no held stream for ${tag}`);
      for (let i = 0; i < tokens; i++) {
        h.sentAt.push(performance.now());
        h.res.write(chunk({ content: `w${i} ` }));
        await new Promise((r) => setTimeout(r, intervalMs));
      }
      h.res.write(chunk({}, 'stop'));
      h.res.write(
        `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 2, completion_tokens: tokens } })}\n\n`,
      );
      h.res.end('data: [DONE]\n\n');
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * `runs` runs streaming at once, each a single `llm` node with `stream: true` answering
 * `tokensPerRun` tokens `tokenIntervalMs` apart; every token's latency to its client is kept.
 */
export async function benchTokenStream(
  opts: { runs?: number; tokensPerRun?: number; tokenIntervalMs?: number; log?: (m: string) => void } = {},
): Promise<TokenStreamResult> {
  const runs = opts.runs ?? 50;
  const tokensPerRun = opts.tokensPerRun ?? 100;
  const tokenIntervalMs = opts.tokenIntervalMs ?? 20;
  const log = opts.log ?? ((m: string) => console.error(`[token-stream] ${m}`));
  const provider = await streamingProvider(tokensPerRun, tokenIntervalMs);
  const stack = await startStack({
    name: 'bench-token-stream',
    vars: {
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: provider.url,
      OPENAI_MODEL: 'bench',
      MAX_RUNS_PER_KEY: String(runs * 2),
      MAX_RUNS_PER_ACCOUNT: String(runs * 2),
    },
    log,
  });
  const latencies: number[] = [];
  let frames = 0;
  let lost = 0;
  let failedRuns = 0;
  try {
    const acct = randomUUID();
    const token = await stack.token({ acct, sub: randomUUID(), role: 'engineer', name: 'Bench Streamer' });
    const graph = await call(stack.url, 'POST', '/v1/graphs', {
      token,
      body: {
        name: 'bench-stream',
        schema: {
          entry: 'answer',
          nodes: [{ id: 'answer', type: 'llm', prompt: '{{tag}}', output_key: 'answer', stream: true }],
          edges: [],
        },
      },
    });
    if (graph.status !== 201) throw new Error(`graph create answered ${graph.status}: ${graph.text}`);
    const graphId = (graph.json as { id: string }).id;
    log(`${runs} runs × ${tokensPerRun} tokens, one every ${tokenIntervalMs} ms…`);
    const one = async () => {
      const tag = `run-${randomUUID()}`;
      const started = await call(stack.url, 'POST', `/v1/graphs/${graphId}/run`, {
        token,
        body: { input: { tag } },
      });
      if (started.status !== 202) throw new Error(`run start answered ${started.status}: ${started.text}`);
      const runId = (started.json as { run_id: string }).run_id;
      const seen = new Set<number>();
      let done: () => void = () => {};
      const finished = new Promise<void>((r) => {
        done = r;
      });
      const sub = new Subscriber({
        base: stack.url,
        path: `/v1/runs/${runId}/stream`,
        token,
        onEvent: (frame, at) => {
          if (frame.event === 'node_delta' && frame.data) {
            frames++;
            const sentAt = provider.sent.get(tag) ?? [];
            const { text } = JSON.parse(frame.data) as { text: string };
            for (const m of text.matchAll(/w(\d+) /g)) {
              const i = Number(m[1]);
              if (seen.has(i)) continue;
              seen.add(i);
              const t = sentAt[i];
              if (t !== undefined) latencies.push(at - t);
            }
          }
          if (frame.event === 'graph_completed' || frame.event === 'error') {
            if (frame.event === 'error') failedRuns++;
            done();
          }
        },
      });
      await sub.open();
      await provider.waitFor(tag);
      // The stream is open (and live once its replay is sent): only now does the provider speak.
      await new Promise((r) => setTimeout(r, 50));
      await provider.release(tag);
      await Promise.race([finished, new Promise((r) => setTimeout(r, 60_000))]);
      sub.close();
      // The node's last tokens may ride in node_completed instead (a pending delta is dropped
      // when the node completes): those are not node_delta latencies and are not counted lost.
      const lastDelta = Math.max(-1, ...seen);
      for (let i = 0; i <= lastDelta; i++) if (!seen.has(i)) lost++;
    };
    await Promise.all(Array.from({ length: runs }, one));
  } finally {
    await stack.stop();
    await provider.close();
  }
  latencies.sort((a, b) => a - b);
  return {
    runs,
    tokensPerRun,
    tokenIntervalMs,
    latencies,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    framesPerRun: frames / runs,
    lost,
    failedRuns,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.env.BENCH_QUICK === '1';
  const r = await benchTokenStream({ runs: 50, tokensPerRun: quick ? 20 : 100 });
  console.log(
    `token → node_delta: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms over ${r.latencies.length} tokens of ${r.runs} runs; ${r.framesPerRun.toFixed(1)} frames per run; lost ${r.lost}; failed runs ${r.failedRuns}`,
  );
  process.exit(0);
}

const fmt = (v: number) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(2) : v.toFixed(1)) : 'n/a');

/** The summary row of BENCHMARKS.md. */
export function tokenStreamRow(r: TokenStreamResult): string {
  const ok = r.lost === 0 && r.failedRuns === 0 && r.latencies.length > 0;
  return `| 6. Token → client \`node_delta\`, ${r.runs} concurrent streaming runs (p50 / p99) | ${fmt(r.p50)} / ${fmt(r.p99)} ms | — (frames coalesced to ≤ 1 per 50 ms per run) | — | none set (reported); 0 lost | ${ok ? '**met**' : '**missed**'} (lost ${r.lost}, failed runs ${r.failedRuns}) |`;
}

/** Its section of BENCHMARKS.md. */
export function tokenStreamSection(r: TokenStreamResult): string {
  return `
## 6. Token streaming

${r.runs} runs at once, each one \`llm\` node with \`stream: true\` (\`LLM_PROVIDER=openai\`) against an
OpenAI-compatible server in the harness process that sends ${r.tokensPerRun} tokens per run, one SSE chunk
every ${r.tokenIntervalMs} ms, once the run's client is subscribed. Latency: from the moment the server
writes a token to the moment the client (Node, over \`wrangler dev\`) parses the \`node_delta\` frame
holding it: the hub's provider (eventsource-parser), the executor, the coalescing (a token may wait
up to 50 ms for its frame), the hub's broadcast and the Worker's SSE adapter. Tokens still pending when
the node completes ride in \`node_completed\` (the whole output) and are not counted here.

| tokens measured | p50 | p99 | \`node_delta\` frames per run | tokens lost | failed runs |
| --- | --- | --- | --- | --- | --- |
| ${r.latencies.length} | ${fmt(r.p50)} ms | ${fmt(r.p99)} ms | ${r.framesPerRun.toFixed(1)} | ${r.lost} | ${r.failedRuns} |
`;
}
