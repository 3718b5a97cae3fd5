import { describe, expect, it } from 'vitest';
import { addDays, isTimeZone, isWeekend, localDate, startOfDay } from './time-zone';

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

  it('names the local day of an instant, and counts days on the calendar', () => {
    const t = Date.parse('2026-03-01T23:30:00Z');
    expect(localDate(t, 'UTC')).toBe('2026-03-01');
    expect(localDate(t, 'Europe/Paris')).toBe('2026-03-02');
    expect(localDate(t, 'America/Los_Angeles')).toBe('2026-03-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect([isWeekend('2026-11-28'), isWeekend('2026-11-29'), isWeekend('2026-11-30')]).toEqual([
      true,
      true,
      false,
    ]);
  });
});
