import type { Db } from '../db/client';
import { hubFor } from '../hub/hub-client';
import type { HubUsageNow } from '../hub/hub-host';
import { USAGE_COUNTERS } from '../hub/hub-module';
import { hubCall } from '../lib/hub-call';
import { type DayCounts, readUsage } from './usage-store';

const DAY_MS = 86_400_000;

const zero = (): DayCounts => Object.fromEntries(USAGE_COUNTERS.map((k) => [k, 0])) as DayCounts;

/**
 * The answer of GET /v1/usage: the roll-up's days plus what the hub has counted and not yet
 * flushed, every day of the range (zeros included), with the hub's live figures.
 */
export async function accountUsage(env: Env, db: Db, accountId: string, from: string, to: string) {
  const [stored, now] = await Promise.all([
    readUsage(db, accountId, from, to),
    hubCall<HubUsageNow>('usageNow', () => hubFor(env, accountId).usageNow()),
  ]);
  const perDay = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    const counts = { ...zero(), ...stored.get(day) };
    for (const k of USAGE_COUNTERS) counts[k] += now.pending[day]?.[k] ?? 0;
    perDay.push({
      day,
      events_published: counts.events_published,
      deliveries: counts.deliveries,
      runs_started: counts.runs_started,
      nodes_executed: counts.nodes_executed,
      llm_tokens: { prompt: counts.llm_prompt_tokens, completion: counts.llm_completion_tokens },
      webhook_deliveries: counts.webhook_deliveries,
      hub_wakeups: counts.hub_wakeups,
    });
  }
  return { subscribers_now: now.subscribers_now, per_day: perDay, hub_storage_bytes: now.hub_storage_bytes };
}
