import { describe, expect, it } from 'vitest';
import { echoTool } from './echo';

const ctx = { signal: new AbortController().signal, fetch: globalThis.fetch, allowHosts: [] };

describe('echo tool', () => {
  it('returns its arguments as a copy', async () => {
    const args = { a: 1, nested: { b: [1, 2] } };
    const out = await echoTool.run(args, ctx);
    expect(out).toEqual(args);
    expect(out).not.toBe(args);
  });
});
