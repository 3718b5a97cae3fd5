import { createRoute, z } from '@hono/zod-openapi';
import { databaseAnswers } from '../health/health-check';
import { createRouter, jsonResponse } from '../lib/openapi';

const HealthSchema = z
  .object({ ok: z.boolean(), db: z.enum(['up', 'down']) })
  .openapi('Health', { description: 'Whether the Worker can reach Postgres' });

const check = createRoute({
  method: 'get',
  path: '/',
  tags: ['Health'],
  summary: 'Liveness and database reachability',
  security: [],
  responses: {
    200: jsonResponse(HealthSchema, 'The Worker and Postgres answer'),
    503: jsonResponse(HealthSchema, 'Postgres does not answer'),
  },
});

export const healthRoutes = createRouter().openapi(check, async (c) => {
  const up = await databaseAnswers(c.var.config, (work) => c.executionCtx.waitUntil(work));
  return up ? c.json({ ok: true, db: 'up' as const }, 200) : c.json({ ok: false, db: 'down' as const }, 503);
});
