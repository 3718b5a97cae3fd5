/**
 * `{{path}}` templates over run state. Paths are dotted (`a.b.0`, `a.b[0]`), read own properties
 * only (so `{{constructor}}` is empty, not a function), and whitespace inside braces is ignored.
 */

export type State = Record<string, unknown>;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([^{}]*?)\s*\}\}$/;

export function splitPath(path: string): string[] {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((segment) => segment !== '');
}

/** Resolves a dotted path; `undefined` when any step is missing. */
export function getPath(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const segment of splitPath(path)) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else if (typeof current === 'object' && current !== null && Object.hasOwn(current, segment)) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }
  return current;
}

/** Missing and null render as empty text; objects and arrays as JSON. */
export function stringifyValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

export function renderTemplate(template: string, state: State): string {
  return template.replace(PLACEHOLDER, (_match, path: string) => stringifyValue(getPath(state, path)));
}

/**
 * Renders every string inside a JSON-like value (tool args, transform `set`). A string that is
 * exactly one placeholder keeps the referenced value's type, so `{"value": "{{status}}"}` passes the
 * object itself rather than its JSON text; if the field is missing it becomes "" as elsewhere.
 */
export function renderValue(value: unknown, state: State): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(value);
    if (whole) {
      const resolved = getPath(state, whole[1] ?? '');
      return resolved === undefined ? '' : structuredClone(resolved);
    }
    return renderTemplate(value, state);
  }
  if (Array.isArray(value)) return value.map((item) => renderValue(item, state));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty, not assignment: a "__proto__" key from JSON must stay a plain property.
      Object.defineProperty(out, key, {
        value: renderValue(item, state),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
