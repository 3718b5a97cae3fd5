import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  const opts = { baseMs: 500, maxMs: 30_000 };

  it('doubles the ceiling each attempt, between half and all of it', () => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const ceiling = 500 * 2 ** attempt;
      expect(backoffDelay(attempt, opts, () => 0)).toBe(ceiling / 2);
      expect(backoffDelay(attempt, opts, () => 0.999999)).toBe(ceiling);
    }
  });

  it('never exceeds maxMs and is never zero', () => {
    for (const attempt of [0, 1, 10, 50, 1000]) {
      for (const r of [0, 0.5, 0.999]) {
        const d = backoffDelay(attempt, opts, () => r);
        expect(d).toBeGreaterThan(0);
        expect(d).toBeLessThanOrEqual(30_000);
      }
    }
  });

  it('spreads clients out (jitter)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, opts)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
