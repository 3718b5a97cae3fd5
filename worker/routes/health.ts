import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { openDb } from '../db/client';
import type { AppEnv } from '../lib/app-env';

export const health = new Hono<AppEnv>().get('/', async (c) => {
  const { db, close } = openDb(c.get('config'));
  try {
    await db.execute(sql`select 1`);
    return c.json({ ok: true, db: 'up' });
  } catch {
    return c.json({ ok: false, db: 'down' }, 503);
  } finally {
    c.executionCtx.waitUntil(close());
  }
});
