type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: Level = 'info';

export function setLogLevel(level: Level): void {
  threshold = level;
}

// Field names that must never reach a log line, whatever a caller passes.
const secretKeys = /authorization|token|secret|password|api[_-]?key|database_url|cookie/i;

function errorFields(err: Error, depth = 0): Record<string, unknown> {
  const fields: Record<string, unknown> = { name: err.name, message: err.message };
  if (err.cause instanceof Error && depth < 3) fields.cause = errorFields(err.cause, depth + 1);
  return fields;
}

function scrub(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (secretKeys.test(k)) out[k] = '[redacted]';
    else if (v instanceof Error) out[k] = errorFields(v);
    else out[k] = v;
  }
  return out;
}

/** The one structured logger: one JSON object per line. */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (order[level] < order[threshold]) return;
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...scrub(fields) });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
