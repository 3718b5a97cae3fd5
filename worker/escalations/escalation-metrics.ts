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

interface Durations {
  count: number;
  median: number | null;
  p90: number | null;
}

/** How one slice of handoffs (a severity, a day, both, or all) kept to its clocks. */
export interface SlaFigures {
  handoffs: number;
  /** Share of stopped pick-up clocks that stopped in time (met / (met + breached)); null without one. */
  pickup_attainment: number | null;
  resolve_attainment: number | null;
  pickup_breaches: number;
  resolve_breaches: number;
  reescalations: number;
  time_to_resolve_seconds: Durations;
}

export interface EscalationMetrics {
  from: string;
  to: string;
  tz: string;
  totals: {
    total: number;
    by_status: Record<HandoffStatus, number>;
    by_severity: Record<Severity, number>;
  };
  time_to_pickup_seconds: Durations;
  time_to_resolve_seconds: Durations;
  per_day: {
    date: string;
    created: number;
    picked_up: number;
    median_seconds: number | null;
    p90_seconds: number | null;
  }[];
  sla: {
    overall: SlaFigures;
    by_severity: Record<Severity, SlaFigures>;
    per_day: (SlaFigures & { date: string; by_severity: Record<Severity, SlaFigures> })[];
  };
}

/** Postgres answers numerics as strings; seconds to the millisecond, null when there is no value. */
const seconds = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 1000) / 1000);

const share = (met: number, breached: number) =>
  met + breached === 0 ? null : Math.round((met / (met + breached)) * 10_000) / 10_000;

const noFigures = (): SlaFigures => ({
  handoffs: 0,
  pickup_attainment: null,
  resolve_attainment: null,
  pickup_breaches: 0,
  resolve_breaches: 0,
  reescalations: 0,
  time_to_resolve_seconds: { count: 0, median: null, p90: null },
});

const bySeverity = () =>
  Object.fromEntries(SEVERITIES.map((s) => [s, noFigures()])) as Record<Severity, SlaFigures>;

type SlaRow = {
  day: string | null;
  severity: string | null;
  by_day: number;
  by_severity: number;
  n: string;
  pickup_met: string;
  pickup_breached: string;
  resolve_met: string;
  resolve_breached: string;
  reescalations: string;
  resolved: string;
  resolve_median: string | null;
  resolve_p90: string | null;
};

function figuresOf(r: SlaRow): SlaFigures {
  return {
    handoffs: Number(r.n),
    pickup_attainment: share(Number(r.pickup_met), Number(r.pickup_breached)),
    resolve_attainment: share(Number(r.resolve_met), Number(r.resolve_breached)),
    pickup_breaches: Number(r.pickup_breached),
    resolve_breaches: Number(r.resolve_breached),
    reescalations: Number(r.reescalations),
    time_to_resolve_seconds: {
      count: Number(r.resolved),
      median: seconds(r.resolve_median),
      p90: seconds(r.resolve_p90),
    },
  };
}

/**
 * Totals by status and severity (every value named, zero included), the median and p90 time to
 * (first) pick-up and to resolve, the same per day, and how the clocks were kept per severity
 * and per day, of the handoffs created in [from, to). Days are calendar days in `tz`; a handoff
 * counts on the day it was created.
 */
export async function escalationMetrics(
  db: Db,
  accountId: string,
  range: { from: Date; to: Date; tz: string },
): Promise<EscalationMetrics> {
  const { from, to, tz } = range;
  const inRange = sql`account_id = ${accountId} and created_at >= ${from.toISOString()} and created_at < ${to.toISOString()}`;
  const firstPickup = sql`coalesce(first_picked_up_at, picked_up_at)`;
  const pickup = sql`extract(epoch from (${firstPickup} - created_at))`;
  const day = sql`to_char(date_trunc('day', created_at at time zone ${tz}), 'YYYY-MM-DD')`;
  const [counts, overall, perDay, sla] = await Promise.all([
    db.execute<{ status: string; severity: string; n: string }>(
      sql`select status, severity, count(*) as n from handoffs where ${inRange} group by status, severity`,
    ),
    db.execute<{ n: string; median: string | null; p90: string | null }>(sql`
      select count(${firstPickup}) as n,
             percentile_cont(0.5) within group (order by ${pickup}) as median,
             percentile_cont(0.9) within group (order by ${pickup}) as p90
      from handoffs where ${inRange} and ${firstPickup} is not null`),
    db.execute<{
      day: string;
      created: string;
      picked: string;
      median: string | null;
      p90: string | null;
    }>(sql`
      select ${day} as day,
             count(*) as created, count(${firstPickup}) as picked,
             percentile_cont(0.5) within group (order by ${pickup}) filter (where ${firstPickup} is not null) as median,
             percentile_cont(0.9) within group (order by ${pickup}) filter (where ${firstPickup} is not null) as p90
      from handoffs where ${inRange} group by 1 order by 1`),
    db.execute<SlaRow>(sql`
      with hs as (
        select h.severity::text as severity, ${day} as day, h.pickup_sla, h.resolve_sla,
               case when h.status = 'resolved' then extract(epoch from (h.closed_at - h.created_at)) end as resolve_s,
               (select count(*) from handoff_timeline t where t.handoff_id = h.id and t.type = 'reescalated') as reesc
        from handoffs h where ${inRange}
      )
      select day, severity, grouping(day) as by_day, grouping(severity) as by_severity, count(*) as n,
             count(*) filter (where pickup_sla = 'met') as pickup_met,
             count(*) filter (where pickup_sla = 'breached') as pickup_breached,
             count(*) filter (where resolve_sla = 'met') as resolve_met,
             count(*) filter (where resolve_sla = 'breached') as resolve_breached,
             coalesce(sum(reesc), 0) as reescalations,
             count(resolve_s) as resolved,
             percentile_cont(0.5) within group (order by resolve_s) as resolve_median,
             percentile_cont(0.9) within group (order by resolve_s) as resolve_p90
      from hs group by grouping sets ((day, severity), (day), (severity), ())`),
  ]);
  const byStatus = zeroCounts(HANDOFF_STATUSES);
  const severityCounts = zeroCounts(SEVERITIES);
  let total = 0;
  for (const r of counts.rows) {
    const n = Number(r.n);
    total += n;
    // The columns are Postgres enums of these very lists.
    if (isOneOf(HANDOFF_STATUSES, r.status)) byStatus[r.status] += n;
    if (isOneOf(SEVERITIES, r.severity)) severityCounts[r.severity] += n;
  }
  const slaOverall = { figures: noFigures() };
  const slaBySeverity = bySeverity();
  const days = new Map<string, SlaFigures & { date: string; by_severity: Record<Severity, SlaFigures> }>();
  const dayOf = (date: string) => {
    let d = days.get(date);
    if (!d) {
      d = { date, ...noFigures(), by_severity: bySeverity() };
      days.set(date, d);
    }
    return d;
  };
  for (const r of sla.rows) {
    // grouping() is 1 where the column is rolled up: (0,0) day × severity, (0,1) day, (1,0) severity, (1,1) all.
    const withDay = Number(r.by_day) === 0 && r.day !== null;
    const withSeverity = Number(r.by_severity) === 0 && isOneOf(SEVERITIES, r.severity);
    const figures = figuresOf(r);
    if (withDay && withSeverity) dayOf(r.day as string).by_severity[r.severity as Severity] = figures;
    else if (withDay) Object.assign(dayOf(r.day as string), figures);
    else if (withSeverity) slaBySeverity[r.severity as Severity] = figures;
    else slaOverall.figures = figures;
  }
  const o = overall.rows[0];
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    tz,
    totals: { total, by_status: byStatus, by_severity: severityCounts },
    time_to_pickup_seconds: { count: Number(o?.n ?? 0), median: seconds(o?.median), p90: seconds(o?.p90) },
    time_to_resolve_seconds: slaOverall.figures.time_to_resolve_seconds,
    per_day: perDay.rows.map((d) => ({
      date: d.day,
      created: Number(d.created),
      picked_up: Number(d.picked),
      median_seconds: seconds(d.median),
      p90_seconds: seconds(d.p90),
    })),
    sla: {
      overall: slaOverall.figures,
      by_severity: slaBySeverity,
      per_day: [...days.values()].sort((a, b) => a.date.localeCompare(b.date)),
    },
  };
}
