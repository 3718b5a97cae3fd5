/**
 * An HTTP `Retry-After` value (delay seconds or an HTTP date) in milliseconds from `now`;
 * undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  const text = value?.trim() ?? '';
  if (text === '') return undefined;
  // Delay seconds are digits (a fraction tolerated); anything else numeric ("-5", "1e3", "0x10")
  // is unreadable, not a date, which V8's Date.parse would make of it.
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
