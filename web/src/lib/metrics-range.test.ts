import { describe, expect, it } from 'vitest';
import {
  apiRange,
  customRange,
  DEFAULT_RANGE,
  daysIn,
  rangeDays,
  rangeFromQuery,
  rangeLabel,
  rangeToQuery,
} from './metrics-range';

describe('the metrics range', () => {
  it('reads and writes the URL, the default being the last 7 days', () => {
    expect(rangeFromQuery('')).toEqual(DEFAULT_RANGE);
    expect(rangeToQuery(DEFAULT_RANGE)).toBe('');
    expect(rangeFromQuery('range=30')).toEqual({ kind: 'preset', days: 30 });
    expect(rangeToQuery({ kind: 'preset', days: 1 })).toBe('range=1');
    const custom = { kind: 'custom' as const, from: '2026-11-01', to: '2026-11-14' };
    expect(rangeFromQuery(rangeToQuery(custom))).toEqual(custom);
  });

  it('falls back to the default for what a URL cannot mean', () => {
    for (const q of [
      'range=5',
      'range=x',
      'from=2026-11-14&to=2026-11-01',
      'from=2026-13-01&to=2026-13-02',
      'from=2024-01-01&to=2026-01-01',
    ])
      expect(rangeFromQuery(q)).toEqual(DEFAULT_RANGE);
  });

  it('asks the server for whole local days, the end exclusive', () => {
    expect(apiRange({ kind: 'preset', days: 7 }, '2026-11-30', 'Europe/Paris')).toEqual({
      from: '2026-11-24',
      to: '2026-12-01',
      tz: 'Europe/Paris',
    });
    expect(apiRange({ kind: 'preset', days: 1 }, '2026-03-01', 'UTC')).toEqual({
      from: '2026-03-01',
      to: '2026-03-02',
      tz: 'UTC',
    });
    expect(rangeDays({ kind: 'custom', from: '2026-02-27', to: '2026-03-02' }, '2026-11-30')).toEqual({
      first: '2026-02-27',
      last: '2026-03-02',
    });
    expect(daysIn('2026-02-27', '2026-03-02')).toBe(4);
  });

  it('checks a custom range, and names ranges in words', () => {
    expect(customRange('2026-11-14', '2026-11-01')).toEqual({
      ok: false,
      error: 'The first day must come before the last.',
    });
    expect(customRange('', '2026-11-01').ok).toBe(false);
    expect(customRange('2025-01-01', '2026-11-01')).toEqual({
      ok: false,
      error: 'At most 366 days at once.',
    });
    expect(customRange('2026-11-01', '2026-11-01')).toEqual({
      ok: true,
      range: { kind: 'custom', from: '2026-11-01', to: '2026-11-01' },
    });
    expect(rangeLabel({ kind: 'preset', days: 1 })).toBe('Today');
    expect(rangeLabel({ kind: 'preset', days: 30 })).toBe('Last 30 days');
    expect(rangeLabel({ kind: 'custom', from: '2026-11-01', to: '2026-11-14' })).toBe(
      '2026-11-01 to 2026-11-14',
    );
  });
});
