// What every benchmark suite gets: the machine, the database, the runtime (the Worker and its
// hubs straight in workerd), tokens and fresh accounts, client processes, the peer stack and Redis,
// and the helpers that publish a marked event each way. A suite is a module exporting a `Suite`;
// bench/run.ts lists them.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { createClient } from 'redis';
import { migrateDatabase } from '../../scripts/lib/migrate';
import type { BridgeStats } from '../../scripts/lib/pg-bridge';
import { freePort } from '../../scripts/lib/wrangler-dev';
import type { TokenClaims } from '../../worker/dev/sign-token';
import { ClientPool } from './clients';
import { call, sleep } from './http';
import { loadAverage } from './proc';
import { buildBundle, type Runtime, root, startRuntime } from './runtime';
import { benchToken } from './token';

export const QUICK = process.env.BENCH_QUICK === '1';
export const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG_SERVER = 'postgres://postgres@127.0.0.1:5432';
const BENCH_DB = 'switchboard_bench';

const started = Date.now();
export const log = (m: string) =>
  console.error(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${m}`);

export interface Machine {
  cpu: string;
  memory: string;
  kernel: string;
  node: string;
  workerd: string;
  redis: string;
  postgres: string;
  loadBefore: string;
  /** One line for each result row: what, where, with which database. */
  short: string;
}

export interface Account {
  accountId: string;
  userId: string;
  token: string;
  adminToken: string;
  sessionId: string;
}

/** One line of the summary: a comparison, its figures, its target and whether it was met. */
export interface Row {
  comparison: string;
  switchboard: string;
  peer: string;
  ratio: string;
  target: string;
  result: 'met' | 'missed' | 'reported';
  /** For a missed target: the measured cause. */
  cause?: string;
}

export interface SuiteResult {
  rows: Row[];
  /** The suite's section of BENCHMARKS.md (markdown, starting with a `##` heading). */
  section: string;
}

export interface Suite {
  name: string;
  run(b: Bench): Promise<SuiteResult>;
}

export interface Peer {
  url: string;
  pid: number;
}

export interface Bench {
  quick: boolean;
  repeats: number;
  log: (m: string) => void;
  machine: Machine;
  database: { url: string; label: string; embedded: boolean };
  runtime: Runtime;
  secret: string;
  redisUrl: string;
  /** A real card's JSON, whose `reason` carries the mark (`bm<n>`) clients time events by. */
  cardJson: string;
  token(claims: Partial<TokenClaims> & { acct: string }): Promise<string>;
  /** A fresh account with an engineer, an admin and one session. */
  account(): Promise<Account>;
  /** The client processes (started on first use; at least `min`). */
  clients(min?: number): Promise<ClientPool>;
  peer(): Promise<Peer>;
  /** The next mark (unique in the run). */
  mark(): number;
  /** A card's JSON with `mark` as its reason. */
  markedCard(mark: number): string;
  /** What went through the Neon bridge so far: every statement the Worker and its hubs sent. */
  bridgeStats(): Promise<BridgeStats>;
  /** The open-file limit workerd runs with (each SSE stream costs it two descriptors). */
  workerdFileLimit(): number;
  /**
   * Waits until workerd has let go of streams whose clients closed: it notices a gone client at
   * its next write, the keepalive (at most SSE_KEEPALIVE_MS later), and only then frees them.
   */
  reapClosedStreams(): Promise<void>;
  /** Publishes a marked event straight into an account's hub (bus only). */
  publishToHub(accountId: string, mark: number): Promise<void>;
  /** POST handoff with a marked reason, to Switchboard or to the peer; resolves at the 201. */
  postHandoff(base: string, token: string, sessionId: string, mark: number): Promise<void>;
  stop(): Promise<void>;
}

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

/** The PostgreSQL server at 127.0.0.1:5432 with a database of the benchmark's own, if it answers. */
async function serverDatabase(): Promise<{ url: string; version: string } | undefined> {
  if (process.env.BENCH_DATABASE === 'embedded') return undefined;
  const admin = new pg.Client({ connectionString: `${PG_SERVER}/postgres`, connectionTimeoutMillis: 2_000 });
  try {
    await admin.connect();
    const v = (await admin.query('show server_version')).rows[0]?.server_version as string;
    const exists = await admin.query('select 1 from pg_database where datname = $1', [BENCH_DB]);
    if (exists.rowCount === 0) await admin.query(`create database ${BENCH_DB}`);
    return { url: `${PG_SERVER}/${BENCH_DB}`, version: v };
  } catch {
    return undefined;
  } finally {
    await admin.end().catch(() => {});
  }
}

/** The database child (embedded PGlite unless a server URL is given) and the Neon bridge. */
async function startDatabaseChild(dir: string, serverUrl: string | undefined) {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'bench/lib/pg-child.ts')], {
    cwd: root,
    env: {
      ...process.env,
      BENCH_PG_DATA_DIR: resolve(dir, 'pglite'),
      ...(serverUrl ? { DATABASE_URL: serverUrl } : { DATABASE_URL: '' }),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const replies: ((msg: Record<string, unknown>) => void)[] = [];
  lines.on('line', (line) => {
    try {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.cmd) replies.shift()?.(msg);
    } catch {
      // not ours
    }
  });
  const command = (cmd: string) =>
    new Promise<Record<string, unknown>>((ok) => {
      replies.push(ok);
      child.stdin?.write(`${cmd}\n`);
    });
  const info = await new Promise<Record<string, unknown>>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('database child did not start within 60 s')), 60_000);
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.ready) {
          clearTimeout(timer);
          ok(msg);
        }
      } catch {
        // not ours
      }
    });
    child.once('exit', (code) => fail(new Error(`database child exited (${code})`)));
  });
  return { child, url: String(info.url), proxy: String(info.proxy), command };
}

async function stopChild(child: ChildProcess, line?: string) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  if (line) child.stdin?.write(`${line}\n`);
  else child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/**
 * Raises this process's open-file limit (workerd and the client processes inherit it): 10,000
 * streams cost workerd 20,000 descriptors. Needs the privilege to raise a hard limit; without it
 * the limit stays, and the scale suite says how far it could go.
 */
function raiseFileLimit(): string {
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=65536:65536'], { stdio: 'ignore' });
  } catch {
    // not allowed here
  }
  try {
    return execFileSync(
      'prlimit',
      ['--pid', String(process.pid), '--nofile', '--noheadings', '--output=SOFT'],
      {
        encoding: 'utf8',
      },
    ).trim();
  } catch {
    return 'unknown';
  }
}

export async function startBench(opts: { vars?: Record<string, string> } = {}): Promise<Bench> {
  const dir = resolve(root, '.data/bench');
  log(`open-file limit: ${raiseFileLimit()}`);
  rmSync(resolve(dir, 'state'), { recursive: true, force: true });
  const cpu = cpus();
  const server = process.env.DATABASE_URL
    ? { url: process.env.DATABASE_URL, version: '' }
    : await serverDatabase();
  const db = await startDatabaseChild(dir, server?.url);
  const embedded = !server;
  const database = {
    url: db.url,
    embedded,
    label: embedded
      ? 'embedded PGlite (PostgreSQL 18 in WebAssembly, over the wire protocol; no server answered at 127.0.0.1:5432)'
      : process.env.DATABASE_URL
        ? 'PostgreSQL server from DATABASE_URL'
        : `PostgreSQL ${server?.version} at 127.0.0.1:5432 (database ${BENCH_DB})`,
  };
  log(`database: ${database.label}`);
  await migrateDatabase(db.url);
  log('bundling the Worker (wrangler deploy --dry-run)…');
  const bundle = buildBundle(resolve(dir, 'bundle'));
  const secret = randomBytes(24).toString('hex');
  const runtime = await startRuntime({
    bundle,
    persistTo: resolve(dir, 'state'),
    vars: {
      DATABASE_URL: db.url,
      NEON_WS_PROXY: db.proxy,
      JWT_SECRET: secret,
      LOG_LEVEL: 'warn',
      // The harness plays many people with one token (a thousand subscribers, creates and runs
      // flat out): the per-user limits are for real users and are tested in the suite.
      MAX_STREAMS_PER_USER: '100000',
      MAX_HANDOFFS_PER_MINUTE: '1000000',
      MAX_RUNS_PER_KEY: '1000',
      MAX_RUNS_PER_ACCOUNT: '1000',
      // The webhook suite's receivers listen on loopback.
      WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      ...opts.vars,
    },
  });
  log(`workerd (Miniflare, direct socket) at ${runtime.url}, pid ${runtime.pid()}`);
  const workerd = version(resolve(root, 'node_modules/wrangler/node_modules/.bin/workerd'), ['--version']);
  const load = loadAverage();
  const machine: Machine = {
    cpu: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `Linux ${release()}`,
    node: process.version,
    workerd:
      workerd === 'unknown' ? version(resolve(root, 'node_modules/.bin/workerd'), ['--version']) : workerd,
    redis: version('redis-server', ['--version']).replace(/ sha=.*/, ''),
    postgres: database.label,
    loadBefore: load,
    short: `${cpu.length}×${(cpu[0]?.model ?? '?')
      .replace(/\(R\)|\(TM\)|CPU|Processor|\d+-Core/g, '')
      .replace(/\s+/g, ' ')
      .trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${embedded ? 'PGlite (embedded)' : `PostgreSQL ${server?.version ?? ''}`.trim()}`,
  };

  const token = (claims: Partial<TokenClaims> & { acct: string }) => benchToken(claims, secret);

  let cardJson = '';
  let seq = 0;
  let pool: ClientPool | undefined;
  let peer: { child: ChildProcess; url: string; pid: number } | undefined;

  const bench: Bench = {
    quick: QUICK,
    repeats: REPEATS,
    log,
    machine,
    database,
    runtime,
    secret,
    redisUrl: REDIS_URL,
    get cardJson() {
      return cardJson;
    },
    token,
    async account() {
      const accountId = randomUUID();
      const userId = randomUUID();
      const t = await token({ acct: accountId, sub: userId });
      const adminToken = await token({ acct: accountId, role: 'admin', name: 'Bench Admin' });
      const s = await call(runtime.url, 'POST', '/v1/sessions', {
        token: t,
        body: { title: 'bench', problem_summary: 'benchmark session' },
      });
      if (s.status !== 201) throw new Error(`session create answered ${s.status}: ${s.text.slice(0, 300)}`);
      return { accountId, userId, token: t, adminToken, sessionId: (s.json as { id: string }).id };
    },
    async clients(min = 1) {
      if (pool && pool.size >= min) return pool;
      await pool?.stop();
      pool = await ClientPool.start(min);
      return pool;
    },
    async peer() {
      if (peer) return { url: peer.url, pid: peer.pid };
      const port = await freePort();
      const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'bench/peer/server.ts')], {
        cwd: root,
        env: { ...process.env, PEER_PORT: String(port), DATABASE_URL: db.url, REDIS_URL, JWT_SECRET: secret },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((ok, fail) => {
        const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
        lines.on('line', (line) => line.includes('"ready"') && ok());
        child.once('exit', (code) => fail(new Error(`peer exited (${code})`)));
      });
      peer = { child, url: `http://127.0.0.1:${port}`, pid: child.pid as number };
      log(`peer stack (Node HTTP + SSE, pg pool, Redis pub/sub) at ${peer.url}, pid ${peer.pid}`);
      return { url: peer.url, pid: peer.pid };
    },
    mark: () => ++seq,
    workerdFileLimit: () => {
      const limits = readFileSync(`/proc/${runtime.pid()}/limits`, 'utf8');
      return Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? 0);
    },
    async reapClosedStreams() {
      const fds = () => readdirSync(`/proc/${runtime.pid()}/fd`).length;
      const deadline = Date.now() + 20_000;
      let last = fds();
      while (Date.now() < deadline) {
        await sleep(1_000);
        const now = fds();
        if (now <= runtime.baseFds() + 100) return;
        last = now;
      }
      log(`workerd still holds ${last} descriptors (${runtime.baseFds()} at start)`);
    },
    bridgeStats: async () => (await db.command('stats')).stats as BridgeStats,
    markedCard: (mark) => cardJson.replace(/"reason":"[^"]*"/, `"reason":"bm${mark}"`),
    async publishToHub(accountId, mark) {
      const res = await call(runtime.publisherUrl, 'POST', '/', {
        body: {
          account: accountId,
          events: [
            {
              key: randomUUID(),
              topic: 'escalations',
              // Not `created`: that would start an assessment job for a card Postgres does not have.
              type: 'escalation.resolved',
              data: { card: JSON.parse(bench.markedCard(mark)), version: 2 },
            },
          ],
        },
      });
      if (res.status !== 200)
        throw new Error(`hub publish answered ${res.status}: ${res.text.slice(0, 200)}`);
    },
    async postHandoff(base, t, sessionId, mark) {
      const res = await call(base, 'POST', `/v1/sessions/${sessionId}/handoffs`, {
        token: t,
        body: { intent: 'escalate', reason: `bm${mark}`, severity: 'normal' },
      });
      if (res.status !== 201) throw new Error(`handoff answered ${res.status}: ${res.text.slice(0, 200)}`);
    },
    async stop() {
      await pool?.stop();
      if (peer) await stopChild(peer.child);
      await runtime.stop();
      await stopChild(db.child, 'quit');
    },
  };

  // A real card, as the API answers it, sizes every message of every system alike.
  const seed = await bench.account();
  const first = await call(runtime.url, 'POST', `/v1/sessions/${seed.sessionId}/handoffs`, {
    token: seed.token,
    body: { intent: 'escalate', reason: 'bm0', severity: 'normal' },
  });
  if (first.status !== 201) throw new Error(`first handoff answered ${first.status}: ${first.text}`);
  cardJson = first.text;
  const redis = createClient({ url: REDIS_URL });
  redis.on('error', () => {});
  await redis.connect().catch(() => {
    throw new Error(`Redis does not answer at ${REDIS_URL}: the comparisons need it`);
  });
  await redis.quit();
  return bench;
}

export const ms = (v: number) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(2) : v.toFixed(1)) : 'n/a');

/** A ratio row against a target of at most `limit` times the peer. */
export function ratioRow(
  comparison: string,
  sb: number,
  peer: number,
  peerLabel: string,
  limit: number,
  unit: string,
  cause: string | undefined,
  extraOk = true,
): Row {
  const ratio = sb / peer;
  const met = ratio <= limit && extraOk;
  const fmt = (v: number) => (unit === 'ms' ? `${ms(v)} ms` : `${v.toFixed(1)} ${unit}`);
  return {
    comparison,
    switchboard: fmt(sb),
    peer: `${peerLabel} ${fmt(peer)}`,
    ratio: `${ratio.toFixed(2)}×`,
    target: `≤ ${limit}×`,
    result: met ? 'met' : 'missed',
    ...(met || !cause ? {} : { cause }),
  };
}
