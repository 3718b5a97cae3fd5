import { describe, expect, it } from 'vitest';
import { jsonPathTool, parseJsonPath } from './json-path';
import { ToolError } from './tool';

const ctx = { signal: new AbortController().signal, fetch: globalThis.fetch, allowHosts: [] };
const run = (value: unknown, path: unknown) => jsonPathTool.run({ value, path }, ctx);

describe('parseJsonPath', () => {
  it('parses keys, indexes and quoted keys', () => {
    expect(parseJsonPath('$')).toEqual([]);
    expect(parseJsonPath('$.a.b[0]')).toEqual(['a', 'b', 0]);
    expect(parseJsonPath('$[\'with space\']["q"][-1]')).toEqual(['with space', 'q', -1]);
  });

  it.each(['a.b', '$.', '$[x]', '$..a', '$.a[*]', '$ .a'])('rejects %s', (path) => {
    expect(() => parseJsonPath(path)).toThrow(ToolError);
  });
});

describe('json_path tool', () => {
  const doc = { a: { b: [{ c: 'first' }, { c: 'second' }] }, n: 0, z: null };

  it('plucks nested values', async () => {
    expect(await run(doc, '$.a.b[1].c')).toBe('second');
    expect(await run(doc, '$.a.b[-1].c')).toBe('second');
    expect(await run(doc, '$.n')).toBe(0);
    expect(await run(doc, '$')).toEqual(doc);
  });

  it('returns null when nothing matches', async () => {
    expect(await run(doc, '$.missing.x')).toBeNull();
    expect(await run(doc, '$.a.b[5]')).toBeNull();
    expect(await run(doc, '$.a[0]')).toBeNull();
  });

  it('never reaches into prototypes', async () => {
    expect(await run(doc, '$.constructor')).toBeNull();
    expect(await run(doc, '$.__proto__')).toBeNull();
    expect(await run([1], '$.length')).toBeNull();
  });

  it('parses a JSON string value when the path goes into it', async () => {
    expect(await run('{"x":{"y":3}}', '$.x.y')).toBe(3);
    expect(await run('plain text', '$')).toBe('plain text');
    await expect(run('not json', '$.x')).rejects.toThrow(/not JSON/);
  });

  it('requires a string path', async () => {
    await expect(run(doc, 5)).rejects.toMatchObject({ code: 'bad_args' });
  });
});
