/**
 * Run state is stored three ways: the hub's SQLite, the event log streamed over a WebSocket, and a
 * Postgres `jsonb` column. These helpers keep what enters the state within what all three accept:
 * a bounded size, and text Postgres can store (`jsonb` and `text` reject U+0000, and `jsonb`
 * rejects a lone UTF-16 surrogate's `\uD800` escape).
 */

const encoder = new TextEncoder();

/** A text's size in UTF-8 bytes, the unit every byte limit is set in. */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).byteLength;
}

/** The size of a value as JSON, in UTF-8 bytes (what the log and the checkpoint store). */
export function jsonBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value) ?? 'null').byteLength;
}

/**
 * How deeply a JSON value nests (a scalar is 0, `[]` and `{}` are 1), counted without recursion
 * so a hostile value cannot exhaust the stack; stops counting past `limit`.
 */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    const here = depth + 1;
    if (here > max) max = here;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, here]);
  }
  return max;
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Drops U+0000 and replaces lone surrogates with U+FFFD. */
export function cleanText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what is removed.
  const noNul = text.includes('\u0000') ? text.replace(/\u0000/g, '') : text;
  return noNul.replace(LONE_SURROGATE, '\uFFFD');
}

/** A copy of a JSON value with every string (keys included) cleaned by `cleanText`. */
export function cleanJson<T>(value: T): T {
  return cleanValue(value, 0) as T;
}

function cleanValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (value === null || typeof value !== 'object' || depth > 1_000) return value;
  if (Array.isArray(value)) return value.map((v) => cleanValue(v, depth + 1));
  // fromEntries defines own properties, so a `__proto__` key stays a key.
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [cleanText(k), cleanValue(v, depth + 1)]));
}

/**
 * Why a JSON value cannot be stored as given (a string or key with U+0000 or a lone surrogate),
 * or undefined when it can. Iterative, like `jsonDepth`.
 */
export function unstorableText(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  const bad = (s: string) => s.includes('\u0000') || new RegExp(LONE_SURROGATE.source).test(s);
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (bad(v)) return 'text may not contain U+0000 or unpaired surrogates';
    } else if (v !== null && typeof v === 'object') {
      if (Array.isArray(v)) stack.push(...v);
      else
        for (const [k, child] of Object.entries(v)) {
          if (bad(k)) return 'keys may not contain U+0000 or unpaired surrogates';
          stack.push(child);
        }
    }
  }
  return undefined;
}
