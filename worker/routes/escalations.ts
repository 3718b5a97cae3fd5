import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { cardJson, loadCards } from '../escalations/cards';
import { ESCALATIONS_TOPIC } from '../escalations/topic';
import { hubFor } from '../hub/hub-client';
import type { AppEnv } from '../lib/app-env';
import { requireRole } from '../lib/auth';
import { decodeCursor, page, pageQuery } from '../lib/pagination';
import { validate } from '../lib/validate';
import { hubStream, lastEventIdOf } from '../streams/hub-stream';

const snapshotQuery = pageQuery.extend({
  status: z.enum(['open', 'picked_up', 'resolved', 'cancelled']).optional(),
});

const DAY_MS = 86_400_000;
const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).transform((v) => new Date(v));
const metricsQuery = z
  .object({ from: instant.optional(), to: instant.optional() })
  .transform(({ from, to }) => {
    const end = to ?? new Date();
    return { from: from ?? new Date(end.getTime() - 30 * DAY_MS), to: end };
  })
  .refine((r) => r.from < r.to, { message: 'from must be before to', path: ['from'] })
  .refine((r) => r.to.getTime() - r.from.getTime() <= 366 * DAY_MS, {
    message: 'the range may span at most 366 days',
    path: ['to'],
  });

const num = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 1000) / 1000);

export const escalationRoutes = new Hono<AppEnv>()
  .get('/', validate('query', snapshotQuery), async (c) => {
    const { limit, cursor, status } = c.req.valid('query');
    const who = c.var.identity;
    // Read the log position before the snapshot: a client that streams from it misses nothing
    // (an event already in the snapshot merges by version).
    const lastEventId = await hubFor(c.env, who.accountId).lastEventId(ESCALATIONS_TOPIC);
    const db = await c.var.db();
    const rows = await loadCards(db, who.accountId, {
      ...(status ? { status } : {}),
      ...(cursor ? { after: decodeCursor(cursor) } : {}),
      limit: limit + 1,
    });
    const { items, nextCursor } = page(rows, limit);
    return c.json({ items: items.map(cardJson), next_cursor: nextCursor, last_event_id: lastEventId });
  })
  .get('/stream', requireRole('engineer', 'admin'), async (c) => {
    return hubStream(c, ESCALATIONS_TOPIC, lastEventIdOf(c));
  })
  .get('/metrics', requireRole('admin'), validate('query', metricsQuery), async (c) => {
    const { from, to } = c.req.valid('query');
    const account = c.var.identity.accountId;
    const db = await c.var.db();
    const range = sql`account_id = ${account} and created_at >= ${from.toISOString()} and created_at < ${to.toISOString()}`;
    const pickup = sql`extract(epoch from (picked_up_at - created_at))`;
    const [counts, overall, perDay] = await Promise.all([
      db.execute<{ status: string; severity: string; n: string }>(
        sql`select status, severity, count(*) as n from handoffs where ${range} group by status, severity`,
      ),
      db.execute<{ n: string; median: string | null; p90: string | null }>(sql`
        select count(picked_up_at) as n,
               percentile_cont(0.5) within group (order by ${pickup}) as median,
               percentile_cont(0.9) within group (order by ${pickup}) as p90
        from handoffs where ${range} and picked_up_at is not null`),
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
        from handoffs where ${range} group by 1 order by 1`),
    ]);
    const byStatus: Record<string, number> = { open: 0, picked_up: 0, resolved: 0, cancelled: 0 };
    const bySeverity: Record<string, number> = { low: 0, normal: 0, high: 0, urgent: 0 };
    let total = 0;
    for (const r of counts.rows) {
      const n = Number(r.n);
      total += n;
      byStatus[r.status] = (byStatus[r.status] ?? 0) + n;
      bySeverity[r.severity] = (bySeverity[r.severity] ?? 0) + n;
    }
    const o = overall.rows[0];
    return c.json({
      from: from.toISOString(),
      to: to.toISOString(),
      totals: { total, by_status: byStatus, by_severity: bySeverity },
      time_to_pickup_seconds: { count: Number(o?.n ?? 0), median: num(o?.median), p90: num(o?.p90) },
      per_day: perDay.rows.map((d) => ({
        date: d.day,
        created: Number(d.created),
        picked_up: Number(d.picked),
        median_seconds: num(d.median),
        p90_seconds: num(d.p90),
      })),
    });
  });
