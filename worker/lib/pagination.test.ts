import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, page } from './pagination';

describe('cursor pagination', () => {
  it('round-trips a cursor', () => {
    const key = {
      createdAt: new Date('2026-11-21T10:00:00.123Z'),
      id: '5b0a6d1e-2c3f-4a5b-8c6d-7e8f9a0b1c2d',
    };
    expect(decodeCursor(encodeCursor(key))).toEqual(key);
  });

  it('rejects a forged or garbled cursor with a 400', () => {
    for (const bad of ['x', btoa('[1,2]'), btoa('["2026-01-01T00:00:00Z","not-a-uuid"]'), '%%%']) {
      expect(() => decodeCursor(bad)).toThrowError(/cursor/);
    }
  });

  it('hands out a next cursor only when there is another page', () => {
    const rows = [1, 2, 3].map((n) => ({
      id: `00000000-0000-4000-8000-00000000000${n}`,
      createdAt: new Date(n),
    }));
    expect(page(rows, 3).nextCursor).toBeNull();
    const p = page(rows, 2);
    expect(p.items).toHaveLength(2);
    expect(decodeCursor(p.nextCursor ?? undefined)?.id).toBe(rows[1]?.id);
  });
});
