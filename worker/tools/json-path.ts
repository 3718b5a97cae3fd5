import { isPlainObject, type Tool, ToolError } from './tool';

/**
 * A deliberately small JSONPath subset: `$`, `.key`, `['key']` / `["key"]` and `[index]`
 * (negative indexes count from the end). No wildcards, filters or recursion: a graph needs to
 * pluck one value, and a tiny grammar cannot be abused for expensive queries.
 */
export type PathSegment = string | number;

const MAX_PATH_LENGTH = 512;

export function parseJsonPath(path: string): PathSegment[] {
  if (path.length > MAX_PATH_LENGTH)
    throw new ToolError('bad_args', `path is longer than ${MAX_PATH_LENGTH}`);
  if (!path.startsWith('$')) throw new ToolError('bad_args', `path must start with "$": ${path}`);
  const segments: PathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const ch = path[i];
    if (ch === '.') {
      const match = /^[A-Za-z0-9_$-]+/.exec(path.slice(i + 1));
      if (!match) throw new ToolError('bad_args', `expected a key after "." at ${i} in ${path}`);
      segments.push(match[0]);
      i += 1 + match[0].length;
    } else if (ch === '[') {
      const rest = path.slice(i);
      const index = /^\[(-?\d+)\]/.exec(rest);
      const quoted = /^\[(?:'([^']*)'|"([^"]*)")\]/.exec(rest);
      if (index?.[1] !== undefined) {
        segments.push(Number(index[1]));
        i += index[0].length;
      } else if (quoted) {
        segments.push(quoted[1] ?? quoted[2] ?? '');
        i += quoted[0].length;
      } else {
        throw new ToolError('bad_args', `bad bracket segment at ${i} in ${path}`);
      }
    } else {
      throw new ToolError('bad_args', `unexpected "${ch}" at ${i} in ${path}`);
    }
  }
  return segments;
}

/** Own properties only, so `$.constructor` or `$.__proto__` never reach into prototypes. */
export function evaluateJsonPath(value: unknown, segments: readonly PathSegment[]): unknown {
  let current: unknown = value;
  for (const segment of segments) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current)) return undefined;
      const index = segment < 0 ? current.length + segment : segment;
      current = index >= 0 && index < current.length ? current[index] : undefined;
    } else if (Array.isArray(current) && /^\d+$/.test(segment)) {
      current = current[Number(segment)];
    } else if (isPlainObject(current) && Object.hasOwn(current, segment)) {
      current = current[segment];
    } else {
      return undefined;
    }
  }
  return current;
}

/**
 * Args `{value, path}`. A missing match yields `null` (not an error) so graphs can branch on it with
 * `field_exists`. A string `value` is parsed as JSON when the path goes into it, for values that
 * were rendered into text by a template.
 */
export const jsonPathTool: Tool = {
  name: 'json_path',
  async run(args) {
    if (typeof args.path !== 'string') throw new ToolError('bad_args', 'json_path needs a string "path"');
    const segments = parseJsonPath(args.path);
    let value = args.value;
    if (typeof value === 'string' && segments.length > 0) {
      try {
        value = JSON.parse(value);
      } catch {
        throw new ToolError('bad_args', 'json_path "value" is a string that is not JSON');
      }
    }
    const found = evaluateJsonPath(value, segments);
    return found === undefined ? null : found;
  },
};
