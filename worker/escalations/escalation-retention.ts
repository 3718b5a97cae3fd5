import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { IDEMPOTENCY_KEY_TTL_MS } from '../lib/idempotency';

// What escalations leave behind in Postgres that nobody reads after a day: outbox rows the hub
// has acknowledged (an unacknowledged row is never pruned: it still has to be delivered), and
// the Idempotency-Key of each handoff (the key is forgotten, the handoff stays).

/** How long an acknowledged outbox row is kept (a handoff's Idempotency-Key: the keys' own 24 h). */
export const ESCALATION_ROWS_RETENTION_HOURS = 24;

export interface Pruned {
  outbox: number;
  idempotencyKeys: number;
}

/** One statement, one account: both prunes use an index led by the account id. */
export async function pruneEscalationRows(db: Db, accountId: string): Promise<Pruned> {
  const cutoff = sql.raw(`now() - interval '${ESCALATION_ROWS_RETENTION_HOURS} hours'`);
  const keyCutoff = sql.raw(`now() - interval '${IDEMPOTENCY_KEY_TTL_MS / 1000} seconds'`);
  const result = await db.execute<{ outbox: number; keys: number }>(sql`
    with o as (
      delete from outbox
      where account_id = ${accountId}::uuid and published_at is not null and published_at < ${cutoff}
      returning 1
    ), k as (
      update handoffs set idempotency_key = null
      where account_id = ${accountId}::uuid and idempotency_key is not null and created_at < ${keyCutoff}
      returning 1
    )
    select (select count(*) from o)::int as outbox, (select count(*) from k)::int as keys`);
  const row = result.rows[0];
  return { outbox: row?.outbox ?? 0, idempotencyKeys: row?.keys ?? 0 };
}
