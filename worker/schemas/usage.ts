import { z } from '@hono/zod-openapi';

// GET /v1/usage (DESIGN "Usage and cost").

const DAY_MS = 86_400_000;
const day = z.iso.date().openapi({ description: 'A UTC day, `YYYY-MM-DD`' });

export const UsageQuery = z
  .object({
    from: day.optional().openapi({ description: 'First day (UTC), inclusive. Default: 29 days before `to`' }),
    to: day.optional().openapi({ description: 'Last day (UTC), inclusive. Default: today' }),
  })
  .transform(({ from, to }) => {
    const end = to ?? new Date().toISOString().slice(0, 10);
    const start = from ?? new Date(Date.parse(end) - 29 * DAY_MS).toISOString().slice(0, 10);
    return { from: start, to: end };
  })
  .refine((r) => r.from <= r.to, { message: 'from must not be after to', path: ['from'] })
  .refine((r) => Date.parse(r.to) - Date.parse(r.from) < 366 * DAY_MS, {
    message: 'the range may span at most 366 days',
    path: ['to'],
  });

const count = z.number().int().nonnegative();

export const UsageDaySchema = z
  .object({
    day: day,
    events_published: count,
    deliveries: count.openapi({
      description: 'Frames sent to subscribers (each frame to each subscriber counts once)',
    }),
    runs_started: count,
    nodes_executed: count,
    llm_tokens: z.object({ prompt: count, completion: count }),
    webhook_deliveries: count,
    hub_wakeups: count.openapi({
      description:
        'Times the account hub (or one of its relays) started: a first request, or waking from hibernation',
    }),
  })
  .openapi('UsageDay');

export const UsageSchema = z
  .object({
    subscribers_now: count.openapi({ description: 'Open streams of the account right now' }),
    per_day: z
      .array(UsageDaySchema)
      .openapi({ description: 'Every day of the range, oldest first, zeros included' }),
    hub_storage_bytes: count.openapi({
      description: 'The account hub’s SQLite storage (event log, jobs, runs)',
    }),
  })
  .openapi('Usage');
