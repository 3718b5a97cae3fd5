import { describe, expect, it } from 'vitest';
import { LlmError, raceAbort } from './llm-provider';

describe('LlmError', () => {
  it('derives retryable from the code unless told otherwise', () => {
    expect(new LlmError('rate_limited', 'x').retryable).toBe(true);
    expect(new LlmError('timeout', 'x').retryable).toBe(true);
    expect(new LlmError('provider_error', 'x', { status: 502 }).retryable).toBe(true);
    expect(new LlmError('auth', 'x').retryable).toBe(false);
    expect(new LlmError('bad_response', 'x').retryable).toBe(false);
    expect(new LlmError('provider_error', 'x', { retryable: false }).retryable).toBe(false);
    const err = new LlmError('bad_request', 'bad', { status: 400 });
    expect(err).toBeInstanceOf(Error);
    expect(err.status).toBe(400);
    expect(err.name).toBe('LlmError');
  });
});

describe('raceAbort', () => {
  it('rejects as soon as the signal aborts, even if the promise never settles', async () => {
    const controller = new AbortController();
    const pending = raceAbort(
      new Promise<never>(() => undefined),
      controller.signal,
      () => new Error('stopped'),
    );
    controller.abort();
    await expect(pending).rejects.toThrow('stopped');
  });

  it('passes results and errors through', async () => {
    const signal = new AbortController().signal;
    await expect(raceAbort(Promise.resolve(1), signal, () => new Error('x'))).resolves.toBe(1);
    await expect(raceAbort(Promise.reject(new Error('inner')), signal, () => new Error('x'))).rejects.toThrow(
      'inner',
    );
    await expect(raceAbort(Promise.resolve(2), undefined, () => new Error('x'))).resolves.toBe(2);
  });

  it('rejects immediately on an already-aborted signal', async () => {
    await expect(
      raceAbort(Promise.resolve(1), AbortSignal.abort(), () => new Error('early')),
    ).rejects.toThrow('early');
  });
});
