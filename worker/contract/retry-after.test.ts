import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './retry-after';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-12-01T06:00:00Z');

  it('reads delay seconds (fractions too) and HTTP dates, as milliseconds from now', () => {
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter('0.25', now)).toBe(250);
    expect(parseRetryAfter('Tue, 01 Dec 2026 06:00:30 GMT', now)).toBe(30_000);
    // A date already past means "now", not a negative wait.
    expect(parseRetryAfter('Tue, 01 Dec 2026 05:00:00 GMT', now)).toBe(0);
  });

  it('is undefined when absent or unreadable', () => {
    for (const v of [null, '', '  ', 'soon', '-5', '1e3', '0x10', '+5', '1 2'])
      expect(parseRetryAfter(v, now)).toBeUndefined();
  });
});
