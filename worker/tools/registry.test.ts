import { describe, expect, it } from 'vitest';
import { BUILTIN_TOOL_NAMES, createToolRegistry } from './registry';
import type { Tool } from './tool';

describe('tool registry', () => {
  it('holds the built-in tools', () => {
    const registry = createToolRegistry();
    expect([...registry.names].sort()).toEqual([...BUILTIN_TOOL_NAMES].sort());
    for (const name of BUILTIN_TOOL_NAMES) expect(registry.get(name)?.name).toBe(name);
    expect(registry.get('nope')).toBeUndefined();
    expect(registry.get('constructor')).toBeUndefined();
  });

  it('lets extra tools replace or add to the built-ins', async () => {
    const custom: Tool = { name: 'echo', run: async () => 'custom' };
    const extra: Tool = { name: 'extra', run: async () => 1 };
    const registry = createToolRegistry([custom, extra]);
    expect(registry.names).toContain('extra');
    expect(registry.names.filter((n) => n === 'echo')).toHaveLength(1);
    const ctx = { signal: new AbortController().signal, fetch: globalThis.fetch, allowHosts: [] };
    expect(await registry.get('echo')?.run({}, ctx)).toBe('custom');
  });
});
