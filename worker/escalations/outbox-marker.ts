import { DurableObject } from 'cloudflare:workers';

/**
 * "Something is waiting in the outbox": the accounts whose publish after commit still failed after
 * the Worker's retries. The cron asks this object, not Postgres, whether there is anything to
 * redeliver, so an idle deployment never wakes its database (a Neon compute suspends after a few
 * idle minutes and costs nothing until it is woken). One instance (`outbox`); it is written only
 * when publishing failed, so it is never on a hot path.
 */
export class OutboxMarker extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(
        'create table if not exists pending (account_id text primary key, marked_at integer not null)',
      );
    });
  }

  /** An account has committed outbox rows its Worker could not publish. */
  mark(accountId: string, at = Date.now()): void {
    this.ctx.storage.sql.exec(
      `insert into pending (account_id, marked_at) values (?, ?)
       on conflict (account_id) do update set marked_at = max(marked_at, excluded.marked_at)`,
      accountId,
      at,
    );
  }

  /** The marked accounts, with when each was last marked. */
  pending(): { accountId: string; markedAt: number }[] {
    return this.ctx.storage.sql
      .exec<{ account_id: string; marked_at: number }>('select account_id, marked_at from pending')
      .toArray()
      .map((r) => ({ accountId: r.account_id, markedAt: r.marked_at }));
  }

  /** Clears a mark, unless the account was marked again after `markedAt` (that failure is not handled yet). */
  clear(accountId: string, markedAt: number): void {
    this.ctx.storage.sql.exec(
      'delete from pending where account_id = ? and marked_at <= ?',
      accountId,
      markedAt,
    );
  }
}
