import { sql } from 'drizzle-orm';
import { type DbConfig, withDb } from '../db/client';

/**
 * Whether Postgres answers a trivial query, on a pool of its own (the health check runs before
 * and without authentication). Closing the pool is handed to `waitUntil`, not awaited.
 */
export async function databaseAnswers(
  config: DbConfig,
  waitUntil: (work: Promise<unknown>) => void,
): Promise<boolean> {
  return withDb(config, waitUntil, async (db) => {
    try {
      await db.execute(sql`select 1`);
      return true;
    } catch {
      return false;
    }
  });
}
