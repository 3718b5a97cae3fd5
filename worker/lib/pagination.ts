import { and, type Column, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import type { PgSelect } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { MAX_PAGE_LIMIT } from '../contract/paging';
import { validationFailed } from './errors';

/** `limit` (1..MAX_PAGE_LIMIT, default 50) and an opaque `cursor`, shared by every list endpoint. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(50),
  cursor: z.string().max(200).optional(),
});

export interface CursorKey {
  createdAt: Date;
  id: string;
}

/** Where a page starts (`undefined`: the first page) and how many rows to read. */
export interface PageWindow {
  after: CursorKey | undefined;
  limit: number;
}

const keySchema = z.tuple([z.iso.datetime({ offset: true }), z.uuid()]);

export function encodeCursor(key: CursorKey): string {
  const json = JSON.stringify([key.createdAt.toISOString(), key.id]);
  return btoa(json).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function decodeCursor(cursor: string | undefined): CursorKey | undefined {
  if (cursor === undefined) return undefined;
  try {
    const json = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    const [createdAt, id] = keySchema.parse(JSON.parse(json));
    return { createdAt: new Date(createdAt), id };
  } catch {
    throw validationFailed('query', [{ field: 'cursor', message: 'not a cursor returned by this list' }]);
  }
}

/** Given limit+1 rows (newest first), the page and the cursor of the next one. */
export function page<T extends { createdAt: Date; id: string }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

/**
 * A list endpoint's answer: `read` is asked for one row past the page (so the answer knows
 * whether another page follows), and the page's rows go out as `json` renders them.
 */
export async function listPage<R extends CursorKey, J>(
  query: { limit: number; cursor?: string | undefined },
  read: (window: PageWindow) => Promise<R[]>,
  json: (row: R) => J,
): Promise<{ items: J[]; next_cursor: string | null }> {
  const rows = await read({ after: decodeCursor(query.cursor), limit: query.limit + 1 });
  const { items, nextCursor } = page(rows, query.limit);
  return { items: items.map(json), next_cursor: nextCursor };
}

interface Keyed {
  createdAt: Column;
  id: Column;
}

/** Rows after the cursor in newest-first order (`undefined` on the first page). */
export function afterCursor(t: Keyed, after: CursorKey | undefined): SQL | undefined {
  if (!after) return undefined;
  return or(lt(t.createdAt, after.createdAt), and(eq(t.createdAt, after.createdAt), lt(t.id, after.id)));
}

/** The order every list uses, matching `afterCursor`. */
const newestFirst = (t: Keyed) => [desc(t.createdAt), desc(t.id)] as const;

/**
 * The one keyset query behind every list: `query` (a `$dynamic()` select from `t`) narrowed to
 * `where` and to the window's rows, newest first. It takes the select rather than the table
 * because drizzle types a select's rows only where the table is known, i.e. at the caller.
 */
export function keysetPage<Q extends PgSelect>(
  query: Q,
  t: Keyed,
  where: SQL | undefined,
  window: PageWindow,
) {
  return query
    .where(and(where, afterCursor(t, window.after)))
    .orderBy(...newestFirst(t))
    .limit(window.limit);
}
