import { describe, expect, it } from 'vitest';
import { failTool } from './fail';
import { ToolError } from './tool';

const ctx = { signal: new AbortController().signal, fetch: globalThis.fetch, allowHosts: [] };

describe('fail tool', () => {
  it('throws a ToolError with the given message', async () => {
    const err = await failTool.run({ message: 'boom' }, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    expect((err as ToolError).message).toBe('boom');
    expect((err as ToolError).code).toBe('failed');
  });

  it('has a default message', async () => {
    await expect(failTool.run({}, ctx)).rejects.toThrow('fail tool invoked');
  });
});
