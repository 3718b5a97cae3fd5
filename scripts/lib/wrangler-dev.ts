import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

// What every local stack (npm run dev, the browser tests, the benchmark and reliability
// harness) needs to run the Worker under `wrangler dev`.

/** A port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** `wrangler dev` arguments: loopback only, no interactive session, settings passed as --var. */
export function wranglerDevArgs(opts: {
  port: number;
  persistTo: string;
  vars: Record<string, string>;
  extra?: string[];
}): string[] {
  return [
    'dev',
    '--port',
    String(opts.port),
    '--ip',
    '127.0.0.1',
    '--persist-to',
    opts.persistTo,
    '--show-interactive-dev-session=false',
    ...(opts.extra ?? []),
    ...Object.entries(opts.vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ];
}

/**
 * Waits until the Worker answers /healthz. Fails at once if wrangler exits, and after
 * `timeoutMs` otherwise, naming `logHint` (where wrangler's output went).
 */
export async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number, logHint: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}); see ${logHint}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the Worker did not answer ${url}/healthz within ${timeoutMs} ms; see ${logHint}`);
}
