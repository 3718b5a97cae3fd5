import { sql } from 'drizzle-orm';
import {
  HANDOFF_STATUSES,
  type HandoffStatus,
  isOneOf,
  SEVERITIES,
  type Severity,
  zeroCounts,
} from '../contract/statuses';
import type { Db } from '../db/client';

// Escalation metrics of an account over a time range, computed in Postgres.

export interface EscalationMetrics {
  from: string;
  to: string;
  totals: {
    total: number;
    by_status: Record<HandoffStatus, number>;
    by_severity: Record<Severity, number>;
  };
  time_to_pickup_seconds: { count: number; median: number | null; p90: number | null };
  per_day: {
    date: string;
    created: number;
    picked_up: number;
    median_seconds: number | null;
    p90_seconds: number | null;
  }[];
}

/** Postgres answers numerics as strings; seconds to the millisecond, null when there is no value. */
const seconds = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 1000) / 1000);

/**
 * Totals by status and severity (every value named, zero included), the median and p90 time to
 * pick-up, and the same per UTC day, of the handoffs created in [from, to).
 */
export async function escalationMetrics(
  db: Db,
  accountId: string,
  range: { from: Date; to: Date },
): Promise<EscalationMetrics> {
  const { from, to } = range;
  const inRange = sql`account_id = ${accountId} and created_at >= ${from.toISOString()} and created_at < ${to.toISOString()}`;
  const pickup = sql`extract(epoch from (picked_up_at - created_at))`;
  const [counts, overall, perDay] = await Promise.all([
    db.execute<{ status: string; severity: string; n: string }>(
      sql`select status, severity, count(*) as n from handoffs where ${inRange} group by status, severity`,
    ),
    db.execute<{ n: string; median: string | null; p90: string | null }>(sql`
      select count(picked_up_at) as n,
             percentile_cont(0.5) within group (order by ${pickup}) as median,
             percentile_cont(0.9) within group (order by ${pickup}) as p90
      from handoffs where ${inRange} and picked_up_at is not null`),
    db.execute<{
      day: string;
      created: string;
      picked: string;
      median: string | null;
      p90: string | null;
    }>(sql`
      select to_char(date_trunc('day', created_at at time zone 'UTC'), 'YYYY-MM-DD') as day,
             count(*) as created, count(picked_up_at) as picked,
             percentile_cont(0.5) within group (order by ${pickup}) filter (where picked_up_at is not null) as median,
             percentile_cont(0.9) within group (order by ${pickup}) filter (where picked_up_at is not null) as p90
      from handoffs where ${inRange} group by 1 order by 1`),
  ]);
  const byStatus = zeroCounts(HANDOFF_STATUSES);
  const bySeverity = zeroCounts(SEVERITIES);
  let total = 0;
  for (const r of counts.rows) {
    const n = Number(r.n);
    total += n;
    // The columns are Postgres enums of these very lists.
    if (isOneOf(HANDOFF_STATUSES, r.status)) byStatus[r.status] += n;
    if (isOneOf(SEVERITIES, r.severity)) bySeverity[r.severity] += n;
  }
  const o = overall.rows[0];
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    totals: { total, by_status: byStatus, by_severity: bySeverity },
    time_to_pickup_seconds: { count: Number(o?.n ?? 0), median: seconds(o?.median), p90: seconds(o?.p90) },
    per_day: perDay.rows.map((d) => ({
      date: d.day,
      created: Number(d.created),
      picked_up: Number(d.picked),
      median_seconds: seconds(d.median),
      p90_seconds: seconds(d.p90),
    })),
  };
}
