import { and, asc, eq, gte, lte, sql } from 'drizzle-orm';
import { getConfig } from '../config';
import type { Db } from '../db/client';
import { withDb } from '../db/client';
import { usageDaily } from '../db/schema';
import { USAGE_COUNTERS, type UsageCounter } from '../hub/hub-module';
import type { UsageByDay, UsageSink } from '../hub/usage-meter';

// The usage roll-up in Postgres (table usage_daily): written by the account hub's flush, read by
// GET /v1/usage.

const column = {
  events_published: usageDaily.eventsPublished,
  deliveries: usageDaily.deliveries,
  runs_started: usageDaily.runsStarted,
  nodes_executed: usageDaily.nodesExecuted,
  llm_prompt_tokens: usageDaily.llmPromptTokens,
  llm_completion_tokens: usageDaily.llmCompletionTokens,
  webhook_deliveries: usageDaily.webhookDeliveries,
  hub_wakeups: usageDaily.hubWakeups,
} as const satisfies Record<UsageCounter, unknown>;

const field = {
  events_published: 'eventsPublished',
  deliveries: 'deliveries',
  runs_started: 'runsStarted',
  nodes_executed: 'nodesExecuted',
  llm_prompt_tokens: 'llmPromptTokens',
  llm_completion_tokens: 'llmCompletionTokens',
  webhook_deliveries: 'webhookDeliveries',
  hub_wakeups: 'hubWakeups',
} as const satisfies Record<UsageCounter, keyof typeof usageDaily.$inferInsert>;

/** Adds the counts to each day's row, in one statement. */
export async function addUsage(db: Db, accountId: string, days: UsageByDay): Promise<void> {
  const rows = Object.entries(days).map(([day, counts]) => {
    const row: typeof usageDaily.$inferInsert = { accountId, day };
    for (const k of USAGE_COUNTERS) row[field[k]] = counts[k] ?? 0;
    return row;
  });
  if (rows.length === 0) return;
  const add = Object.fromEntries(
    USAGE_COUNTERS.map((k) => [field[k], sql`${column[k]} + excluded.${sql.identifier(column[k].name)}`]),
  );
  await db
    .insert(usageDaily)
    .values(rows)
    .onConflictDoUpdate({
      target: [usageDaily.accountId, usageDaily.day],
      set: { ...add, updatedAt: sql`now()` },
    });
}

/** The account hub's usage sink: a connection for the flush, closed after it. */
export const usageSinkFor =
  (env: Env, waitUntil: (work: Promise<unknown>) => void): UsageSink =>
  (accountId, days) =>
    withDb(getConfig(env), waitUntil, (db) => addUsage(db, accountId, days));

export type DayCounts = Record<UsageCounter, number>;

/** The roll-up rows of days `from`..`to` (inclusive, `YYYY-MM-DD`). */
export async function readUsage(
  db: Db,
  accountId: string,
  from: string,
  to: string,
): Promise<Map<string, DayCounts>> {
  const rows = await db
    .select()
    .from(usageDaily)
    .where(and(eq(usageDaily.accountId, accountId), gte(usageDaily.day, from), lte(usageDaily.day, to)))
    .orderBy(asc(usageDaily.day));
  return new Map(
    rows.map((r) => [
      r.day,
      Object.fromEntries(USAGE_COUNTERS.map((k) => [k, Number(r[field[k]])])) as DayCounts,
    ]),
  );
}
