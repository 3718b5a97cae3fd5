/**
 * One SSE frame from data already serialised as one line of JSON: the hub's log stores each
 * event's JSON text, so replaying it needs no parse and re-stringify.
 */
export function sseFrameJson(event: string, json: string, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${json}\n\n`;
}

/** One SSE frame. `data` is JSON on one line, so a frame never needs multi-line splitting. */
export function sseFrame(event: string, data: unknown, id?: number): string {
  return sseFrameJson(event, JSON.stringify(data), id);
}

export const sseRetry = (ms: number) => `retry: ${ms}\n\n`;
export const SSE_KEEPALIVE = ': keepalive\n\n';

/** Parses a Last-Event-ID value: a non-negative integer, or undefined when absent or malformed. */
export function parseLastEventId(value: string | null | undefined): number | undefined | 'invalid' {
  if (value === null || value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) return 'invalid';
  return Number(value.trim());
}
