import { describe, expect, it } from 'vitest';
import { isTimeZone, startOfDay } from './time-zone';

describe('time zones', () => {
  it('knows IANA zones and refuses anything else', () => {
    for (const tz of ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata'])
      expect(isTimeZone(tz)).toBe(true);
    for (const tz of ['Mars/Olympus', '', 'Europe/Paris; drop table', '../etc/passwd', 'x'.repeat(80)])
      expect(isTimeZone(tz)).toBe(false);
  });

  it('finds the instant a day starts in a zone, across daylight saving changes', () => {
    expect(startOfDay('2026-03-01', 'UTC').toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(startOfDay('2026-01-15', 'Europe/Paris').toISOString()).toBe('2026-01-14T23:00:00.000Z');
    expect(startOfDay('2026-07-15', 'Europe/Paris').toISOString()).toBe('2026-07-14T22:00:00.000Z');
    // The day of the spring change starts before it (still UTC+1); the next day at UTC+2.
    expect(startOfDay('2026-03-29', 'Europe/Paris').toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(startOfDay('2026-03-30', 'Europe/Paris').toISOString()).toBe('2026-03-29T22:00:00.000Z');
    expect(startOfDay('2026-06-01', 'America/New_York').toISOString()).toBe('2026-06-01T04:00:00.000Z');
    expect(startOfDay('2026-06-01', 'Asia/Kolkata').toISOString()).toBe('2026-05-31T18:30:00.000Z');
  });
});
