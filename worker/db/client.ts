import { neonConfig, Pool } from '@neondatabase/serverless';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless';
import type { Config } from '../config';
import * as schema from './schema';

export type Db = NeonDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

/** The settings a database handle needs. */
export type DbConfig = Pick<Config, 'DATABASE_URL' | 'NEON_WS_PROXY' | 'NEON_HTTP_QUERIES'>;

let configured: string | undefined;

/** Bounds a query sent over HTTP as `connectionTimeoutMillis` and `query_timeout` bound the others. */
const HTTP_QUERY_TIMEOUT_MS = 15_000;

// Locally the driver reaches Postgres through the WebSocket-to-TCP bridge started by the dev
// script or the test setup (which also answers Neon's SQL-over-HTTP at /sql); in production
// NEON_WS_PROXY is unset and it talks to Neon directly.
function configureDriver(config: DbConfig): void {
  const key = `${config.NEON_WS_PROXY}|${config.NEON_HTTP_QUERIES}|${config.DATABASE_URL}`;
  if (key === configured) return;
  configured = key;
  const proxy = config.NEON_WS_PROXY;
  if (proxy) {
    neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
    // The driver drops the port from what it sends over HTTP; the local endpoint is told the server.
    const db = new URL(config.DATABASE_URL);
    const bridge = proxy.slice(0, proxy.indexOf('/'));
    neonConfig.fetchEndpoint = () => `http://${bridge}/sql?address=${db.hostname}:${db.port || 5432}`;
  }
  // One-shot queries (`pool.query`, so every drizzle statement outside a transaction) go as one
  // HTTP request and need no connection; transactions still take a WebSocket connection
  // (docs/local-stack.md has the measurements).
  neonConfig.poolQueryViaFetch = config.NEON_HTTP_QUERIES;
  neonConfig.fetchFunction = (url: string, init: RequestInit) =>
    fetch(url, { ...init, signal: AbortSignal.timeout(HTTP_QUERY_TIMEOUT_MS) });
}

export interface DbHandle {
  db: Db;
  /** Closes the pool; the caller hands it to waitUntil so the response does not wait. */
  close(): Promise<void>;
}

/**
 * A pool per request (or per Durable Object operation): Workers may not share I/O objects across
 * requests, so a module-level pool would break on the second request.
 */
export function openDb(config: DbConfig): DbHandle {
  configureDriver(config);
  // A server that accepts connections but never answers must end as a 503, not a hung request
  // or a wedged hub job: bound the connect and every query.
  const pool = new Pool({
    connectionString: config.DATABASE_URL,
    connectionTimeoutMillis: 5_000,
    query_timeout: 15_000,
    max: 4,
  });
  // An idle client that loses its socket emits 'error' on the pool; without a listener that
  // would be an uncaught exception. The failing query itself still rejects and is handled.
  pool.on('error', () => {});
  return {
    db: drizzle({ client: pool, schema }),
    close: async () => {
      try {
        await pool.end();
      } catch {
        // Ending a pool whose connection already failed is not an error worth reporting.
      }
    },
  };
}

/**
 * Runs `fn` on a pool of its own, outside a request (a hub job, the cron, the health check): the
 * pool is closed once `fn` settles, and the closing is handed to `waitUntil`, not awaited.
 */
export async function withDb<T>(
  config: DbConfig,
  waitUntil: (work: Promise<unknown>) => void,
  fn: (db: Db) => Promise<T>,
  open: typeof openDb = openDb,
): Promise<T> {
  const { db, close } = open(config);
  try {
    return await fn(db);
  } finally {
    waitUntil(close());
  }
}

/** Thrown where Postgres could not be reached or did not answer; rendered as a 503. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

/** The SQLSTATE of a Postgres error anywhere in an error's cause chain, if there is one. */
export function sqlState(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e === 'object' && 'code' in e && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
      return e.code;
    }
    e = typeof e === 'object' && 'cause' in e ? e.cause : undefined;
  }
  return undefined;
}

/** Whether an error came from the database layer (as opposed to a bug in our code). */
export function isDatabaseError(err: unknown): boolean {
  return (
    err instanceof DrizzleQueryError || err instanceof DatabaseUnavailableError || sqlState(err) !== undefined
  );
}

// SQLSTATE classes worth retrying: connection (08), transaction rollback (40), resources (53),
// object in use (55), operator intervention (57), system (58), internal (XX).
const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '40', '53', '55', '57', '58', 'XX']);
// What a driver error says when the connection itself failed (no SQLSTATE to go by).
const CONNECTION_FAILURE = /connect|socket|terminated|timeout|closed|ECONN|network/i;

/**
 * The one classification of a failed database call, used by request errors (503 or not), by hub
 * jobs (retry or give up) and by the transaction wrapper:
 * - `unavailable`: Postgres unreachable or briefly unable; the same call may succeed later;
 * - `refused_value`: SQLSTATE class 22, the value itself is refused (e.g. U+0000 in jsonb);
 * - `conflict`: class 23, a constraint;
 * - `other`: anything else from Postgres (a bug in a query), which fails the same way every time;
 * - undefined: not a database error at all.
 */
export function dbErrorKind(
  err: unknown,
): 'unavailable' | 'refused_value' | 'conflict' | 'other' | undefined {
  const code = sqlState(err);
  if (code !== undefined) {
    const cls = code.slice(0, 2);
    if (TRANSIENT_SQLSTATE_CLASSES.has(cls)) return 'unavailable';
    if (cls === '22') return 'refused_value';
    if (cls === '23') return 'conflict';
    return 'other';
  }
  if (isDatabaseError(err)) return 'unavailable';
  return err instanceof Error && CONNECTION_FAILURE.test(err.message) ? 'unavailable' : undefined;
}

/** Whether a failed call may succeed if retried as it is (see `dbErrorKind`). */
export const isTransientDbError = (err: unknown) => dbErrorKind(err) === 'unavailable';

/**
 * Runs `fn` in one transaction. Errors raised before the first query (the pool could not
 * connect) are not wrapped by drizzle, so they are classified here: anything that is neither our
 * own HTTP error nor a Postgres error is the database being unavailable.
 */
export async function transaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(fn);
  } catch (err) {
    if (isDatabaseError(err) || (err instanceof Error && 'getResponse' in err)) throw err;
    if (isTransientDbError(err)) throw new DatabaseUnavailableError((err as Error).message, { cause: err });
    throw err;
  }
}
