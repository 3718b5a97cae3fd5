import { and, type Column, eq, lt, min, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgSelect, PgTable } from 'drizzle-orm/pg-core';
import type { DbOrTx } from '../db/client';

// Reads and deletes kept inside one account, shared by the stores of the tables keyed by account.

/** Row `id` of the account: another account's row is as absent as a missing one. */
export function inAccount(
  t: { id: Column; accountId: Column },
  accountId: string,
  id: string,
): SQL | undefined {
  return and(eq(t.id, id), eq(t.accountId, accountId));
}

/**
 * The account's row `id` from `query` (a `$dynamic()` select from `t`, which keeps the row's type
 * the caller's table gives it), or undefined.
 */
export async function findInAccount<Q extends PgSelect>(
  query: Q,
  t: { id: Column; accountId: Column },
  accountId: string,
  id: string,
): Promise<Awaited<Q>[number] | undefined> {
  const rows: Awaited<Q> = await query.where(inAccount(t, accountId, id));
  return rows[0];
}

type Dated = PgTable & { accountId: AnyPgColumn; createdAt: AnyPgColumn<{ data: Date }> };

/**
 * Deletes the account's rows of `table` created before `before`; answers when the oldest row left
 * was created (to prune again once it is due), or undefined when none is left.
 */
export async function pruneCreatedBefore(
  db: DbOrTx,
  table: Dated,
  accountId: string,
  before: Date,
): Promise<Date | undefined> {
  await db.delete(table).where(and(eq(table.accountId, accountId), lt(table.createdAt, before)));
  const [left] = await db
    .select({ oldest: min(table.createdAt) })
    .from(table)
    .where(eq(table.accountId, accountId));
  return left?.oldest ?? undefined;
}
