import { createMiddleware } from 'hono/factory';
import { type Db, openDb } from '../db/client';
import type { AppEnv } from './app-env';
import { provision } from './provision';

/**
 * Gives each request a lazy `c.var.db()`: the pool is opened on first use only (streams never
 * touch Postgres), the caller's account and user are provisioned then, and the pool is closed
 * after the response without delaying it, once the work handed to `c.var.afterResponse` (which
 * may still use it) has settled.
 */
export const database = createMiddleware<AppEnv>(async (c, next) => {
  let pending: Promise<Db> | undefined;
  let close: (() => Promise<void>) | undefined;
  const background: Promise<unknown>[] = [];
  c.set('afterResponse', (work) => {
    background.push(work);
  });
  c.set('db', () => {
    pending ??= (async () => {
      const handle = openDb(c.get('config'));
      close = handle.close;
      const identity = c.var.identity;
      if (identity) await provision(handle.db, identity);
      return handle.db;
    })();
    return pending;
  });
  try {
    await next();
  } finally {
    const closing = close;
    if (background.length > 0 || closing) {
      c.executionCtx.waitUntil(Promise.allSettled(background).then(() => closing?.()));
    }
  }
});
