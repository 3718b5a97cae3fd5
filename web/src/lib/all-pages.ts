/** One page of a list answer (DESIGN.md: lists take `limit` and an opaque `cursor`). */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/**
 * Every item of a paged list, page after page, until the server says there is no next page or
 * `maxPages` were read (a bound against a server that never says so).
 */
export async function allPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  maxPages = 50,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < maxPages; n++) {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    if (page.next_cursor === null || page.next_cursor === cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}
