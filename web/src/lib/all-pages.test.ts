import { describe, expect, it } from 'vitest';
import { allPages, type Page } from './all-pages';

describe('allPages', () => {
  it('follows next_cursor until there is none', async () => {
    const pages: Record<string, Page<number>> = {
      first: { items: [1, 2], next_cursor: 'b' },
      b: { items: [3, 4], next_cursor: 'c' },
      c: { items: [5], next_cursor: null },
    };
    const asked: (string | undefined)[] = [];
    const items = await allPages(async (cursor) => {
      asked.push(cursor);
      return pages[cursor ?? 'first'] as Page<number>;
    });
    expect(items).toEqual([1, 2, 3, 4, 5]);
    expect(asked).toEqual([undefined, 'b', 'c']);
  });

  it('stops after maxPages, and on a cursor that does not move', async () => {
    let calls = 0;
    const endless = await allPages(async () => ({ items: [++calls], next_cursor: `c${calls}` }), 3);
    expect(endless).toEqual([1, 2, 3]);
    const stuck = await allPages(async (cursor) => ({ items: [cursor ?? 'start'], next_cursor: 'same' }));
    expect(stuck).toEqual(['start', 'same']);
  });
});
