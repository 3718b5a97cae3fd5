import { getConfig } from './config';
import { openDb } from './db/client';
import { outboxMarker, relayOutbox } from './escalations/outbox';
import { log } from './lib/log';

/** The cron trigger: the outbox's last resort (see `redeliverMarked`). */
export async function scheduled(
  _controller: ScheduledController,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  await redeliverMarked(env, (work) => ctx.waitUntil(work));
}

/**
 * Redelivers the accounts whose Worker could not publish a committed change even after its
 * retries. It asks the outbox marker first and opens no database connection when nothing is
 * marked, so an idle deployment lets Postgres sleep. Returns the accounts it relayed.
 */
export async function redeliverMarked(
  env: Env,
  waitUntil: (work: Promise<unknown>) => void,
  open: typeof openDb = openDb,
): Promise<string[]> {
  const marker = outboxMarker(env);
  const marked = await marker.pending();
  if (marked.length === 0) return [];
  const { db, close } = open(getConfig(env));
  const relayed: string[] = [];
  try {
    for (const { accountId, markedAt } of marked) {
      // Rows of any age: their publish has already failed.
      const result = await relayOutbox(env, db, 0, { accountIds: [accountId] });
      log('info', 'outbox relay', { accountId, ...result });
      relayed.push(accountId);
      if (result.failed === 0) await marker.clear(accountId, markedAt);
    }
  } catch (err) {
    log('warn', 'outbox relay failed; the next tick retries', { err });
  } finally {
    waitUntil(close());
  }
  return relayed;
}
