// The real local stack for the browser tests, started the way `npm run dev` starts it: embedded
// Postgres (in memory), the WebSocket-to-TCP bridge, migrations, the demo users, the site build,
// `wrangler dev` on a free port, then the demo week (POST /dev/seed), so the tests run in the
// account a new user sees. In front of the Worker sits a TCP proxy the tests control,
// so they can cut the browser's connections mid-stream, as a flaky network would.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres';
import { migrateDatabase } from '../../scripts/lib/migrate';
import { type PgBridge, startPgBridge } from '../../scripts/lib/pg-bridge';
import { describeSeed, requestDemoSeed, seedDemo } from '../../scripts/lib/seed';
import { freePort, waitForHealth, wranglerDevArgs } from '../../scripts/lib/wrangler-dev';

export const root = resolve(import.meta.dirname, '../..');
export const resultsDir = resolve(root, 'test-results');
/** The HS256 secret of the browser tests' Worker: the tests sign tokens of seeded accounts with it. */
export const E2E_JWT_SECRET = 'e2e-secret-0123456789abcdef';

export interface Stack {
  /** What the browser opens: the Worker behind the cuttable proxy. */
  url: string;
  /** The Worker itself, for API calls the test makes. */
  apiUrl: string;
  proxy: CutProxy;
  stop(): Promise<void>;
}

/** A TCP proxy whose live connections can be cut, and which can refuse new ones for a while. */
export class CutProxy {
  private readonly pairs = new Set<{ a: Socket; b: Socket }>();
  private refusing = false;
  private server: Server | undefined;
  port = 0;
  cuts = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.refusing) {
        client.destroy();
        return;
      }
      const upstream = connect(this.targetPort, '127.0.0.1');
      const pair = { a: client, b: upstream };
      this.pairs.add(pair);
      const drop = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Drops every open connection at once, mid-response if need be. */
  cut(): number {
    const n = this.pairs.size;
    for (const { a, b } of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    this.cuts++;
    return n;
  }

  /** While refusing, new connections are closed at once (the network is down). */
  refuse(on: boolean) {
    this.refusing = on;
  }

  get open(): number {
    return this.pairs.size;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server?.close(r));
  }
}

export async function startStack(opts: { build?: boolean } = {}): Promise<Stack> {
  mkdirSync(resultsDir, { recursive: true });
  const bin = (name: string) => join(root, 'node_modules/.bin', name);
  let embedded: EmbeddedPostgres | undefined;
  let bridge: PgBridge | undefined;
  let wrangler: ChildProcess | undefined;
  let proxy: CutProxy | undefined;
  const persist = mkdtempSync(join(tmpdir(), 'switchboard-e2e-'));
  const stop = async () => {
    await proxy?.stop();
    if (wrangler && wrangler.exitCode === null) {
      const exited = new Promise((r) => wrangler?.once('exit', r));
      // wrangler runs workerd as its child: signal the whole group.
      try {
        process.kill(-(wrangler.pid as number), 'SIGTERM');
      } catch {
        wrangler.kill('SIGTERM');
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (wrangler.exitCode === null) {
        try {
          process.kill(-(wrangler.pid as number), 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    await bridge?.close();
    await embedded?.stop();
    rmSync(persist, { recursive: true, force: true });
  };
  try {
    const external = process.env.E2E_DATABASE_URL;
    if (!external) embedded = await startEmbeddedPostgres();
    const databaseUrl = external ?? embedded?.url ?? '';
    await migrateDatabase(databaseUrl);
    await seedDemo(databaseUrl);
    bridge = await startPgBridge();
    if (opts.build !== false) {
      await new Promise<void>((ok, fail) => {
        const vite = spawn(bin('vite'), ['build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
        vite.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`vite build exited ${code}`))));
      });
    }
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    const log = createWriteStream(join(resultsDir, 'e2e-wrangler.log'));
    wrangler = spawn(
      bin('wrangler'),
      wranglerDevArgs({
        port,
        persistTo: persist,
        vars: {
          DATABASE_URL: databaseUrl,
          NEON_WS_PROXY: bridge.proxy,
          JWT_SECRET: E2E_JWT_SECRET,
          DEV_MODE: 'true',
          LLM_PROVIDER: 'fake',
          LOG_LEVEL: 'warn',
          // The admin page's tests register a receiver on loopback.
          WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
          // The suite escalates faster than a person (Alice, ~27 in a few minutes): no 429 midway.
          MAX_HANDOFFS_PER_MINUTE: '1000',
          // The demo's status-page graph reads this Worker's /dev/demo-status.
          HTTP_GET_ALLOW_HOSTS: `127.0.0.1:${port}`,
          PUBLIC_URL: 'http://127.0.0.1',
        },
      }),
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, CI: 'true' } },
    );
    wrangler.stdout?.pipe(log);
    wrangler.stderr?.pipe(log);
    await waitForHealth(apiUrl, wrangler, 90_000, 'test-results/e2e-wrangler.log');
    console.log(`[e2e] ${describeSeed(await requestDemoSeed(apiUrl, { ifEmpty: true }))}`);
    proxy = new CutProxy(port);
    await proxy.start();
    return { url: `http://127.0.0.1:${proxy.port}`, apiUrl, proxy, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
