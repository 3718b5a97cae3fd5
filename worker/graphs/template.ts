/**
 * `{{path}}` templates over run state. Paths are dotted (`a.b.0`, `a.b[0]`), read own properties
 * only (so `{{constructor}}` is empty, not a function), and whitespace inside braces is ignored.
 *
 * Rendering is bounded (DESIGN.md "Limits and hardening"): every rendered string is at most
 * `templateBytes` (TEMPLATE_MAX_BYTES) and a whole rendered value (a node's `set` or `args`) at
 * most `valueBytes` (RUN_STATE_MAX_BYTES, since it lands in the state). Both are checked while the
 * output is built, so `{{x}}{{x}}…` over a large `x` stops at the bound instead of first
 * building hundreds of megabytes.
 */

export type State = Record<string, unknown>;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([^{}]*?)\s*\}\}$/;

export interface RenderLimits {
  /** UTF-8 bytes one rendered string may have. */
  templateBytes: number;
  /** About the JSON size in bytes a whole rendered value may have. */
  valueBytes: number;
}

/** Unbounded: for callers that render their own, already bounded, text. */
export const NO_RENDER_LIMITS: RenderLimits = {
  templateBytes: Number.POSITIVE_INFINITY,
  valueBytes: Number.POSITIVE_INFINITY,
};

/** A render that would pass one of its bounds; nothing was rendered. */
export class TemplateLimitError extends Error {
  override readonly name = 'TemplateLimitError';
  constructor(
    readonly limit: 'template' | 'value',
    readonly maxBytes: number,
  ) {
    super(`a rendered ${limit === 'template' ? 'template' : 'value'} would be over ${maxBytes} bytes`);
  }
}

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

/** UTF-8 length without encoding the text. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

export interface TemplateOptions {
  /** UTF-8 bytes the result may have (default: unbounded). */
  maxBytes?: number;
  /** Applied to each substituted value (not to the template's own text): e.g. percent-encoding. */
  encode?: (value: string) => string;
}

/** Renders `template`; throws TemplateLimitError rather than return more than `maxBytes`. */
export function renderTemplate(template: string, state: State, opts: TemplateOptions = {}): string {
  const max = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  const parts: string[] = [];
  let bytes = 0;
  const add = (text: string) => {
    bytes += utf8Bytes(text);
    if (bytes > max) throw new TemplateLimitError('template', max);
    parts.push(text);
  };
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    add(template.slice(last, match.index));
    const value = stringifyValue(getPath(state, match[1] ?? ''));
    add(opts.encode ? opts.encode(value) : value);
    last = match.index + match[0].length;
  }
  add(template.slice(last));
  return parts.join('');
}

export interface RenderValueOptions {
  /** Top-level keys whose strings are rendered as text with this encoding, whole placeholders too. */
  encodeKeys?: { keys: readonly string[]; encode: (value: string) => string };
}

/**
 * Renders every string inside a JSON-like value (tool args, transform `set`). A string that is
 * exactly one placeholder keeps the referenced value's type, so `{"value": "{{status}}"}` passes the
 * object itself rather than its JSON text; if the field is missing it becomes "" as elsewhere.
 */
export function renderValue(
  value: unknown,
  state: State,
  limits: RenderLimits = NO_RENDER_LIMITS,
  opts: RenderValueOptions = {},
): unknown {
  let total = 0;
  const spend = (bytes: number) => {
    total += bytes;
    if (total > limits.valueBytes) throw new TemplateLimitError('value', limits.valueBytes);
  };
  const text = (template: string, encode?: (value: string) => string) => {
    const out = renderTemplate(template, state, {
      maxBytes: limits.templateBytes,
      ...(encode ? { encode } : {}),
    });
    spend(utf8Bytes(out) + 2);
    return out;
  };
  const encodeOf = (key: string, item: unknown) =>
    typeof item === 'string' && opts.encodeKeys?.keys.includes(key) ? opts.encodeKeys.encode : undefined;
  const render = (v: unknown, encode: ((value: string) => string) | undefined, top: boolean): unknown => {
    if (typeof v === 'string') {
      const whole = encode ? null : WHOLE_PLACEHOLDER.exec(v);
      if (!whole) return text(v, encode);
      const resolved = getPath(state, whole[1] ?? '');
      if (resolved === undefined) return '';
      // A copy of a state value (itself bounded by the state limit), not rendered text.
      spend(utf8Bytes(stringifyValue(resolved)) + 2);
      return structuredClone(resolved);
    }
    if (Array.isArray(v)) return v.map((item) => render(item, undefined, false));
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(v)) {
        spend(utf8Bytes(key) + 4);
        // defineProperty, not assignment: a "__proto__" key from JSON must stay a plain property.
        Object.defineProperty(out, key, {
          value: render(item, top ? encodeOf(key, item) : undefined, false),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    spend(String(v).length);
    return v;
  };
  return render(value, undefined, true);
}
