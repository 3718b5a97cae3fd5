import { and, asc, eq, max } from 'drizzle-orm';
import { type Db, sqlState } from '../db/client';
import { type At, nowValue } from '../db/clock';
import { type GraphRow, graphs } from '../db/schema';
import { findInAccount } from '../lib/account-rows';
import type { Identity } from '../lib/app-env';
import { keysetPage, type PageWindow } from '../lib/pagination';
import type { Graph } from './graph-schema';

// Stored graphs in Postgres. A graph is immutable and versioned by name: storing a name that
// exists stores version n+1 under a new id.

const VERSION_ATTEMPTS = 3;

export type StoreGraphResult = { ok: true; row: GraphRow } | { ok: false; reason: 'not_owner' };

/**
 * Stores `graph` (already validated) as the next version of `name`. A name belongs to whoever
 * stored its first version; only an admin may add versions to someone else's graph. `at` is the
 * demo seed's clock (db/clock.ts), absent in real use.
 */
export async function storeGraphVersion(
  db: Db,
  who: Identity,
  name: string,
  graph: Graph,
  opts: { at?: At } = {},
): Promise<StoreGraphResult> {
  const sameName = and(eq(graphs.accountId, who.accountId), eq(graphs.name, name));
  for (let attempt = 1; ; attempt++) {
    const [owner] = await db
      .select({ createdBy: graphs.createdBy })
      .from(graphs)
      .where(sameName)
      .orderBy(asc(graphs.version))
      .limit(1);
    if (owner && owner.createdBy !== who.userId && who.role !== 'admin')
      return { ok: false, reason: 'not_owner' };
    const [latest] = await db
      .select({ version: max(graphs.version) })
      .from(graphs)
      .where(sameName);
    try {
      const [row] = await db
        .insert(graphs)
        .values({
          accountId: who.accountId,
          name,
          version: (latest?.version ?? 0) + 1,
          createdBy: who.userId,
          schema: graph,
          createdAt: nowValue(opts.at),
        })
        .returning();
      if (!row) throw new Error('graph insert returned no row');
      return { ok: true, row };
    } catch (err) {
      // Two versions of one name stored at once: the loser takes the next number.
      if (sqlState(err) === '23505' && attempt < VERSION_ATTEMPTS) continue;
      throw err;
    }
  }
}

/** One page of the account's graphs (of one name, if given), newest first. */
export function listGraphs(
  db: Db,
  accountId: string,
  opts: PageWindow & { name?: string | undefined },
): Promise<GraphRow[]> {
  const where = and(eq(graphs.accountId, accountId), opts.name ? eq(graphs.name, opts.name) : undefined);
  return keysetPage(db.select().from(graphs).$dynamic(), graphs, where, opts);
}

/** The graph, if it is in this account. */
export function findGraph(db: Db, accountId: string, id: string): Promise<GraphRow | undefined> {
  return findInAccount(db.select().from(graphs).$dynamic(), graphs, accountId, id);
}
