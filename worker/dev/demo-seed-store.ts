import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { demoSeeds } from '../db/schema';

// The demo seed's own rows: whether an account is empty, and the one marker per account that
// makes the seed idempotent.

/** Whether the account has nothing a person made: no session, hand-off, graph, run or webhook. */
export async function accountIsEmpty(db: Db, accountId: string): Promise<boolean> {
  const result = await db.execute<{ used: boolean }>(sql`
    select exists (select 1 from sessions where account_id = ${accountId}::uuid)
        or exists (select 1 from handoffs where account_id = ${accountId}::uuid)
        or exists (select 1 from graphs where account_id = ${accountId}::uuid)
        or exists (select 1 from runs where account_id = ${accountId}::uuid)
        or exists (select 1 from webhook_endpoints where account_id = ${accountId}::uuid) as used`);
  return result.rows[0]?.used !== true;
}

export interface SeedMark {
  startedAt: Date;
  finishedAt: Date | null;
  summary: unknown;
}

/**
 * Marks the account as seeded, once: true for the one caller that inserted the marker (also of
 * two at once), false when the account was seeded (or is being seeded) already.
 */
export async function claimSeed(db: Db, accountId: string): Promise<boolean> {
  const rows = await db
    .insert(demoSeeds)
    .values({ accountId })
    .onConflictDoNothing()
    .returning({ accountId: demoSeeds.accountId });
  return rows.length === 1;
}

export async function seedMark(db: Db, accountId: string): Promise<SeedMark | undefined> {
  const [row] = await db.select().from(demoSeeds).where(eq(demoSeeds.accountId, accountId));
  return row ? { startedAt: row.startedAt, finishedAt: row.finishedAt, summary: row.summary } : undefined;
}

export async function finishSeed(db: Db, accountId: string, summary: unknown): Promise<void> {
  await db
    .update(demoSeeds)
    .set({ finishedAt: sql`now()`, summary })
    .where(eq(demoSeeds.accountId, accountId));
}
