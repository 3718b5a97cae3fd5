import { neonConfig, Pool } from '@neondatabase/serverless';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless';
import type { Config } from '../config';
import * as schema from './schema';

export type Db = NeonDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

let proxyConfigured: string | undefined;

// Locally the driver reaches Postgres through the WebSocket-to-TCP bridge started by the dev
// script or the test setup; in production NEON_WS_PROXY is unset and it talks to Neon directly.
function configureDriver(proxy: string | undefined): void {
  if (proxy === proxyConfigured) return;
  proxyConfigured = proxy;
  if (proxy) {
    neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
  }
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
export function openDb(config: Pick<Config, 'DATABASE_URL' | 'NEON_WS_PROXY'>): DbHandle {
  configureDriver(config.NEON_WS_PROXY);
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
    if (err instanceof Error && /connect|socket|terminated|timeout|closed|ECONN/i.test(err.message)) {
      throw new DatabaseUnavailableError(err.message, { cause: err });
    }
    throw err;
  }
}
