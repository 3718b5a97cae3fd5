/** One SSE frame. `data` is JSON on one line, so a frame never needs multi-line splitting. */
export function sseFrame(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const sseRetry = (ms: number) => `retry: ${ms}\n\n`;
export const SSE_KEEPALIVE = ': keepalive\n\n';

/** Parses a Last-Event-ID value: a non-negative integer, or undefined when absent or malformed. */
export function parseLastEventId(value: string | null | undefined): number | undefined | 'invalid' {
  if (value === null || value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) return 'invalid';
  return Number(value.trim());
}
