// The metrics page's range: the last N days (today included) or two dates the reader picks, in
// the reader's time zone. It lives in the page's URL (`#/metrics?range=30`,
// `#/metrics?from=2026-11-01&to=2026-11-14`), so a reload or a shared link shows the same days.

export const PRESETS = [1, 7, 30, 90] as const;
export type Preset = (typeof PRESETS)[number];

export type MetricsRange = { kind: 'preset'; days: Preset } | { kind: 'custom'; from: string; to: string };

const DEFAULT_DAYS: Preset = 7;
export const DEFAULT_RANGE: MetricsRange = { kind: 'preset', days: DEFAULT_DAYS };

/** The longest range the server computes (its own limit). */
export const MAX_DAYS = 366;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The calendar day `n` days after `date` (calendar arithmetic, no clock involved). */
export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to`, both counted. */
export function daysIn(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

const isDate = (v: string | null): v is string => v !== null && DATE.test(v) && !Number.isNaN(Date.parse(v));

/** The range a URL's query says; anything it cannot mean is the default. */
export function rangeFromQuery(query: string): MetricsRange {
  const params = new URLSearchParams(query);
  const from = params.get('from');
  const to = params.get('to');
  if (isDate(from) && isDate(to) && from <= to && daysIn(from, to) <= MAX_DAYS)
    return { kind: 'custom', from, to };
  const days = Number(params.get('range'));
  return (PRESETS as readonly number[]).includes(days)
    ? { kind: 'preset', days: days as Preset }
    : DEFAULT_RANGE;
}

export function rangeToQuery(r: MetricsRange): string {
  if (r.kind === 'custom') return `from=${r.from}&to=${r.to}`;
  return r.days === DEFAULT_DAYS ? '' : `range=${r.days}`;
}

/** The first and last day shown (both included), given today in the reader's zone. */
export function rangeDays(r: MetricsRange, today: string): { first: string; last: string } {
  if (r.kind === 'custom') return { first: r.from, last: r.to };
  return { first: addDays(today, -(r.days - 1)), last: today };
}

/** What the API is asked: whole days in the zone, the end exclusive (the day after the last). */
export function apiRange(
  r: MetricsRange,
  today: string,
  tz: string,
): { from: string; to: string; tz: string } {
  const { first, last } = rangeDays(r, today);
  return { from: first, to: addDays(last, 1), tz };
}

/** A custom range from two date fields, or why it is not one. */
export function customRange(
  from: string,
  to: string,
): { ok: true; range: MetricsRange } | { ok: false; error: string } {
  if (!isDate(from) || !isDate(to)) return { ok: false, error: 'Pick both dates.' };
  if (from > to) return { ok: false, error: 'The first day must come before the last.' };
  if (daysIn(from, to) > MAX_DAYS) return { ok: false, error: `At most ${MAX_DAYS} days at once.` };
  return { ok: true, range: { kind: 'custom', from, to } };
}

export function rangeLabel(r: MetricsRange): string {
  if (r.kind === 'custom') return r.from === r.to ? r.from : `${r.from} to ${r.to}`;
  return r.days === 1 ? 'Today' : `Last ${r.days} days`;
}
