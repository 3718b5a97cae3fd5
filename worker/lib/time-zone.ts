// IANA time zones, for metrics bucketed in the reader's days. The runtime's Intl knows the same
// zone database as Postgres, which does the bucketing.

/** Whether `tz` names a time zone (`Europe/Paris`, `UTC`), as Intl and Postgres know them. */
export function isTimeZone(tz: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** How far ahead of UTC the zone's wall clock is at instant `t` (ms). */
function offsetMs(t: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(t));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return (
    Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - (t - (t % 1000))
  );
}

/** The instant a calendar day (`YYYY-MM-DD`) starts in `tz`. */
export function startOfDay(date: string, tz: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  // The offset at the guess, then at the corrected instant: right across a DST change too.
  const first = wall - offsetMs(wall, tz);
  return new Date(wall - offsetMs(first, tz));
}

/** The calendar day (`YYYY-MM-DD`) that instant `t` falls on in `tz`. */
export function localDate(t: number, tz: string): string {
  return new Date(t).toLocaleDateString('en-CA', { timeZone: tz });
}

/** The calendar day `n` days after `date` (calendar arithmetic: no clock, no zone involved). */
export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Whether a calendar day is a Saturday or a Sunday. */
export function isWeekend(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return day === 0 || day === 6;
}
