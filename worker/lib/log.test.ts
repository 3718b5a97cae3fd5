import { afterEach, describe, expect, it, vi } from 'vitest';
import { log, safeErrorMessage, withLogContext } from './log';

describe('log', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes one JSON object per line and redacts secret-looking fields at any depth', () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => lines.push(line));
    log('info', 'hello', { user: 'u1', authorization: 'Bearer abc', nested: { apiKey: 'k', ok: 1 } });
    const entry = JSON.parse(lines[0] ?? '{}');
    expect(entry).toMatchObject({ level: 'info', msg: 'hello', user: 'u1', authorization: '[redacted]' });
    expect(entry.nested).toEqual({ apiKey: '[redacted]', ok: 1 });
  });

  // Review finding: drizzle's query errors carry every bound parameter in their message.
  it('never logs the bound parameters of a failed query', () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => lines.push(line));
    const err = new Error('Failed query: insert into runs values ($1)\nparams: {"token":"sk-live-123"}', {
      cause: Object.assign(new Error('value too long'), { code: '22001' }),
    });
    log('error', 'failed', { err });
    expect(lines[0]).not.toContain('sk-live-123');
    expect(JSON.parse(lines[0] ?? '{}').err).toMatchObject({ cause: { code: '22001' } });
    expect(safeErrorMessage(err)).toBe('Failed query: insert into runs values ($1)');
  });

  it('adds the context of the work it runs in (a request id) to every line, awaited work included', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: string) => lines.push(line));
    await withLogContext({ requestId: 'req-1' }, async () => {
      log('warn', 'before');
      await new Promise((r) => setTimeout(r, 1));
      log('warn', 'after', { extra: 1 });
    });
    log('warn', 'outside');
    expect(lines.map((l) => JSON.parse(l).requestId)).toEqual(['req-1', 'req-1', undefined]);
  });
});
