import { AsyncLocalStorage } from 'node:async_hooks';

type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: Level = 'info';

export function setLogLevel(level: Level): void {
  threshold = level;
}

// Field names that must never reach a log line, whatever a caller passes.
const secretKeys = /authorization|token|secret|password|api[_-]?key|database_url|cookie/i;

const MAX_MESSAGE = 500;

/**
 * An error's message fit for a log or a stored job error: drizzle's "Failed query" messages end
 * with every bound parameter (run state, reasons, names), which must not be written anywhere.
 */
export function safeErrorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const withoutParams = message.replace(/\nparams:[\s\S]*$/, '');
  return withoutParams.length > MAX_MESSAGE ? `${withoutParams.slice(0, MAX_MESSAGE)}…` : withoutParams;
}

function errorFields(err: Error, depth = 0): Record<string, unknown> {
  const fields: Record<string, unknown> = { name: err.name, message: safeErrorMessage(err) };
  if ('code' in err && typeof err.code === 'string') fields.code = err.code;
  if (err.cause instanceof Error && depth < 3) fields.cause = errorFields(err.cause, depth + 1);
  return fields;
}

function scrubValue(key: string, value: unknown, depth: number): unknown {
  if (secretKeys.test(key)) return '[redacted]';
  if (value instanceof Error) return errorFields(value);
  if (value && typeof value === 'object' && !Array.isArray(value) && depth < 3) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(k, v, depth + 1)]));
  }
  return value;
}

function scrub(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, scrubValue(k, v, 0)]));
}

/** Fields every line logged inside `withLogContext` carries: a request's id, for one. */
const context = new AsyncLocalStorage<Record<string, unknown>>();

/**
 * Runs `fn` with `fields` added to every line it logs, work it leaves to `waitUntil` included, so
 * a request's id finds every line about it.
 */
export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return context.run({ ...context.getStore(), ...fields }, fn);
}

/** The one structured logger: one JSON object per line. */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (order[level] < order[threshold]) return;
  const line = JSON.stringify({
    level,
    msg,
    time: new Date().toISOString(),
    ...scrub({ ...context.getStore(), ...fields }),
  });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
