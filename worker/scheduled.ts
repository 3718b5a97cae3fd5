import { getConfig } from './config';
import { openDb } from './db/client';
import { relayOutbox } from './escalations/outbox';
import { log } from './lib/log';

/** The cron trigger: delivers outbox rows whose publish after commit did not reach the hub. */
export async function scheduled(
  _controller: ScheduledController,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const config = getConfig(env);
  const { db, close } = openDb(config);
  try {
    const result = await relayOutbox(env, db, config.OUTBOX_REDELIVER_AFTER_SECONDS);
    if (result.published + result.failed > 0) log('info', 'outbox relay', result);
  } catch (err) {
    log('warn', 'outbox relay failed; next tick retries', { err });
  } finally {
    ctx.waitUntil(close());
  }
}
