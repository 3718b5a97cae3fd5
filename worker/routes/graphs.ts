import { and, asc, eq, max } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { sqlState } from '../db/client';
import { type GraphRow, graphs } from '../db/schema';
import { validateGraph } from '../graphs/validate-graph';
import type { AppEnv } from '../lib/app-env';
import { requireRole } from '../lib/auth';
import { ApiError, notFound } from '../lib/errors';
import { afterCursor, decodeCursor, newestFirst, page, pageQuery } from '../lib/pagination';
import { validate } from '../lib/validate';
import { idParam } from './params';

const createGraph = z.strictObject({
  name: z.string().trim().min(1).max(200),
  // Checked by validateGraph, whose messages name the node or edge at fault.
  schema: z.unknown().refine((v) => v !== undefined, { message: 'is required' }),
});

const listQuery = pageQuery.extend({ name: z.string().trim().min(1).max(200).optional() });

export const graphJson = (g: GraphRow) => ({
  id: g.id,
  name: g.name,
  version: g.version,
  created_by: g.createdBy,
  schema: g.schema,
  created_at: g.createdAt.toISOString(),
});

const writers = requireRole('engineer', 'admin');
const VERSION_ATTEMPTS = 3;

export const graphRoutes = new Hono<AppEnv>()
  /**
   * Stores a validated graph. Graphs are immutable and versioned by name: posting a name that
   * exists stores version n+1 under a new id. A name belongs to whoever stored its first version;
   * only an admin may add versions to someone else's graph.
   */
  .post('/', writers, validate('json', createGraph), async (c) => {
    const body = c.req.valid('json');
    const who = c.var.identity;
    const checked = validateGraph(body.schema);
    if (!checked.ok) {
      const first = checked.issues[0]?.message ?? 'invalid graph';
      throw new ApiError(
        400,
        'invalid_graph',
        checked.issues.length > 1 ? `${first} (and ${checked.issues.length - 1} more)` : first,
        checked.issues.map((i) => ({
          field: i.path === '' ? 'schema' : `schema.${i.path}`,
          message: i.message,
        })),
      );
    }
    const db = await c.var.db();
    for (let attempt = 1; ; attempt++) {
      const [owner] = await db
        .select({ createdBy: graphs.createdBy })
        .from(graphs)
        .where(and(eq(graphs.accountId, who.accountId), eq(graphs.name, body.name)))
        .orderBy(asc(graphs.version))
        .limit(1);
      if (owner && owner.createdBy !== who.userId && who.role !== 'admin') {
        throw new ApiError(
          403,
          'forbidden',
          `the graph "${body.name}" belongs to another user; only an admin may add versions`,
        );
      }
      const [latest] = await db
        .select({ version: max(graphs.version) })
        .from(graphs)
        .where(and(eq(graphs.accountId, who.accountId), eq(graphs.name, body.name)));
      try {
        const [row] = await db
          .insert(graphs)
          .values({
            accountId: who.accountId,
            name: body.name,
            version: (latest?.version ?? 0) + 1,
            createdBy: who.userId,
            schema: checked.graph,
          })
          .returning();
        if (!row) throw new Error('graph insert returned no row');
        return c.json(graphJson(row), 201, { Location: `/v1/graphs/${row.id}` });
      } catch (err) {
        // Two versions of one name stored at once: the loser takes the next number.
        if (sqlState(err) === '23505' && attempt < VERSION_ATTEMPTS) continue;
        throw err;
      }
    }
  })
  .get('/', validate('query', listQuery), async (c) => {
    const { limit, cursor, name } = c.req.valid('query');
    const after = decodeCursor(cursor);
    const db = await c.var.db();
    const rows = await db
      .select()
      .from(graphs)
      .where(
        and(
          eq(graphs.accountId, c.var.identity.accountId),
          name ? eq(graphs.name, name) : undefined,
          afterCursor(graphs, after),
        ),
      )
      .orderBy(...newestFirst(graphs))
      .limit(limit + 1);
    const { items, nextCursor } = page(rows, limit);
    return c.json({ items: items.map(graphJson), next_cursor: nextCursor });
  })
  .get('/:id', validate('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const db = await c.var.db();
    const [row] = await db
      .select()
      .from(graphs)
      .where(and(eq(graphs.id, id), eq(graphs.accountId, c.var.identity.accountId)));
    if (!row) throw notFound('graph');
    return c.json(graphJson(row));
  });
