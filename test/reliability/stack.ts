// The local product stack for the reliability suite (the benchmark runs the
// production bundle in Miniflare instead, bench/lib/runtime.ts): Postgres (embedded PGlite unless
// DATABASE_URL names a server) and the Neon bridge in a child process, migrations, and `wrangler
// dev` (workerd: the Worker and the AccountHub Durable Objects) on a free port with its own
// --persist-to directory, so it can be killed and started again like a crash. Everything it starts
// it stops, by process id.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { call } from '../../bench/lib/http';
import { benchToken } from '../../bench/lib/token';
import { migrateDatabase } from '../../scripts/lib/migrate';
import { freePort, waitForHealth, wranglerDevArgs } from '../../scripts/lib/wrangler-dev';
import type { TokenClaims } from '../../worker/dev/sign-token';

export const root = resolve(import.meta.dirname, '../..');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A timer that does not keep the process alive (for races against a deadline). */
const deadline = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

export interface StackOptions {
  /** Names the data directory: .data/<name>. */
  name: string;
  /** Extra `--var`s for the Worker (e.g. OUTBOX_REDELIVER_AFTER_SECONDS). */
  vars?: Record<string, string>;
  log?: (msg: string) => void;
}

export interface Stack {
  url: string;
  databaseUrl: string;
  /** host:port/path of the bridge the Worker's Neon driver uses (the harness can use it too). */
  wsProxy: string;
  embedded: boolean;
  secret: string;
  token(claims: Partial<TokenClaims> & { acct: string }, ttlSeconds?: number): Promise<string>;
  /** Kills workerd and wrangler (SIGKILL: a crash, not a drain); `startWorker` brings them back on the same port and state. */
  killWorker(): Promise<void>;
  startWorker(): Promise<void>;
  /** Embedded: stops the PGlite server. Real server: stops the bridge (the shared server is not ours to stop). */
  stopDatabase(): Promise<void>;
  startDatabase(): Promise<void>;
  /** Runs the cron trigger once (the outbox relay). */
  runCron(): Promise<number>;
  /** The persisted SQLite files of the AccountHub objects (for fault injection with workerd down). */
  hubFiles(): string[];
  stop(): Promise<void>;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const say = opts.log ?? ((m: string) => console.error(`[stack] ${m}`));
  const dir = resolve(root, '.data', opts.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // wrangler refuses to start when the assets directory is missing; an empty one is enough here.
  mkdirSync(resolve(root, 'web/dist'), { recursive: true });
  const external = process.env.DATABASE_URL;
  const secret = randomBytes(24).toString('hex');

  // ── database child ──
  const pg = spawn(
    process.execPath,
    [resolve(root, 'node_modules/tsx/dist/cli.mjs'), resolve(root, 'bench/lib/pg-child.ts')],
    {
      cwd: root,
      env: { ...process.env, BENCH_PG_DATA_DIR: resolve(dir, 'pglite') },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const pgLines = createInterface({ input: pg.stdout as NodeJS.ReadableStream });
  const pgReplies: ((msg: Record<string, unknown>) => void)[] = [];
  let pgReady: (msg: Record<string, unknown>) => void = () => {};
  const ready = new Promise<Record<string, unknown>>((r) => {
    pgReady = r;
  });
  pgLines.on('line', (line) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.ready) pgReady(msg);
    else pgReplies.shift()?.(msg);
  });
  const info = await Promise.race([
    ready,
    deadline(60_000).then(() => {
      throw new Error('database child did not start within 60 s');
    }),
  ]);
  const databaseUrl = String(info.url);
  const wsProxy = String(info.proxy);
  const pgCommand = (cmd: string) =>
    new Promise<void>((ok, fail) => {
      pgReplies.push((msg) => (msg.ok ? ok() : fail(new Error(`database ${cmd}: ${String(msg.error)}`))));
      pg.stdin?.write(`${cmd}\n`);
    });
  say(
    `${external ? 'PostgreSQL server' : 'embedded Postgres (PGlite)'} ${databaseUrl.replace(/:[^:@/]*@/, ':***@')}, bridge ${wsProxy}`,
  );
  await migrateDatabase(databaseUrl);

  // ── wrangler dev ──
  const port = await freePort();
  const inspectorPort = await freePort();
  const logFile = createWriteStream(resolve(dir, 'wrangler.log'), { flags: 'a' });
  let wrangler: ChildProcess | undefined;
  const vars: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    NEON_WS_PROXY: wsProxy,
    JWT_SECRET: secret,
    LOG_LEVEL: 'warn',
    DEV_MODE: 'false',
    // The suite's webhook receivers listen on loopback.
    WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
    // The harness plays many people with one token (hundreds of subscribers, publishers flat
    // out): the per-user limits are for real users, and are tested in the suite.
    MAX_STREAMS_PER_USER: '100000',
    MAX_HANDOFFS_PER_MINUTE: '1000000',
    ...opts.vars,
  };
  const url = `http://127.0.0.1:${port}`;

  // A snapshot of the Worker's source: wrangler dev watches its entry's imports and reloads on every
  // change, which in a shared checkout would restart every hub and drop every stream in the middle
  // of a measurement.
  cpSync(resolve(root, 'worker'), resolve(dir, 'src/worker'), { recursive: true });
  // (the dev routes import the demo identities and the token signer from scripts/lib)
  cpSync(resolve(root, 'scripts/lib'), resolve(dir, 'src/scripts/lib'), { recursive: true });
  // The project's wrangler.toml pointing at that snapshot (its run_worker_first already sends
  // /__scheduled to the Worker, so --test-scheduled reaches the cron).
  const configPath = resolve(dir, 'wrangler.toml');
  const toml = readFileSync(resolve(root, 'wrangler.toml'), 'utf8')
    .replace(/^main = "([^"]+)"/m, (_, p: string) => `main = ${JSON.stringify(resolve(dir, 'src', p))}`)
    .replace(/^directory = "([^"]+)"/m, (_, p: string) => `directory = ${JSON.stringify(resolve(root, p))}`)
    .replace(/^#:schema .*$/m, '');
  writeFileSync(configPath, toml);

  async function startWorker() {
    const args = [
      resolve(root, 'node_modules/wrangler/bin/wrangler.js'),
      ...wranglerDevArgs({
        port,
        persistTo: resolve(dir, 'wrangler'),
        vars,
        extra: [
          '--config',
          configPath,
          '--inspector-port',
          String(inspectorPort),
          '--test-scheduled',
          '--log-level',
          process.env.BENCH_WRANGLER_LOG ?? 'log',
        ],
      }),
    ];
    wrangler = spawn(process.execPath, args, {
      cwd: root,
      detached: true, // its own process group, so workerd goes down with it
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    wrangler.stdout?.pipe(logFile, { end: false });
    wrangler.stderr?.pipe(logFile, { end: false });
    await waitForHealth(url, wrangler, 90_000, `.data/${opts.name}/wrangler.log`);
  }

  async function killWorker() {
    const w = wrangler;
    if (!w?.pid || w.exitCode !== null) return;
    const exited = new Promise((r) => w.once('exit', r));
    try {
      process.kill(-w.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await Promise.race([exited, deadline(10_000)]);
    // The port is free once workerd has gone.
    for (let i = 0; i < 50; i++) {
      try {
        await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(500) });
        await sleep(100);
      } catch {
        break;
      }
    }
  }

  const t0 = Date.now();
  await startWorker();
  say(`wrangler dev on ${url} (persist .data/${opts.name}/wrangler) in ${Date.now() - t0} ms`);

  return {
    url,
    databaseUrl,
    wsProxy,
    embedded: !external,
    secret,
    token: (claims, ttl) => benchToken(claims, secret, ttl),
    killWorker,
    startWorker,
    stopDatabase: () => pgCommand('stop'),
    startDatabase: () => pgCommand('start'),
    runCron: async () => {
      // node:http, not fetch: fetch's `Sec-Fetch-Mode: navigate` makes the assets layer answer instead.
      const res = await call(url, 'GET', `/__scheduled?cron=${encodeURIComponent('* * * * *')}`);
      return res.status;
    },
    hubFiles: () => {
      const out: string[] = [];
      const walk = (d: string) => {
        for (const entry of readdirSync(d, { withFileTypes: true })) {
          const p = resolve(d, entry.name);
          if (entry.isDirectory()) walk(p);
          else if (entry.name.endsWith('.sqlite') && d.includes('AccountHub')) out.push(p);
        }
      };
      walk(resolve(dir, 'wrangler'));
      return out;
    },
    stop: async () => {
      await killWorker();
      if (pg.exitCode === null) {
        const exited = new Promise((r) => pg.once('exit', r));
        pg.stdin?.write('quit\n');
        await Promise.race([exited, deadline(10_000)]);
        if (pg.exitCode === null) pg.kill('SIGKILL');
      }
      logFile.end();
    },
  };
}
