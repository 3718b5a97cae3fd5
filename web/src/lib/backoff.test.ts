import { describe, expect, it } from 'vitest';
import { backoffDelay, isTransientStatus, retryDelay, retryTransient } from './backoff';

describe('backoffDelay', () => {
  const opts = { baseMs: 500, maxMs: 30_000 };

  it('doubles the ceiling each attempt, between half and all of it', () => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const ceiling = 500 * 2 ** attempt;
      expect(backoffDelay(attempt, opts, () => 0)).toBe(ceiling / 2);
      expect(backoffDelay(attempt, opts, () => 0.999999)).toBe(ceiling);
    }
  });

  it('never exceeds maxMs and is never zero', () => {
    for (const attempt of [0, 1, 10, 50, 1000]) {
      for (const r of [0, 0.5, 0.999]) {
        const d = backoffDelay(attempt, opts, () => r);
        expect(d).toBeGreaterThan(0);
        expect(d).toBeLessThanOrEqual(30_000);
      }
    }
  });

  it('spreads clients out (jitter)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, opts)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('retryDelay', () => {
  const opts = { baseMs: 500, maxMs: 30_000 };

  it('waits at least what the server asked, the backoff when it asked less or nothing, never above maxMs', () => {
    expect(retryDelay(0, 2_000, opts, () => 0)).toBe(2_000);
    expect(retryDelay(3, 1_000, opts, () => 0)).toBe(2_000);
    expect(retryDelay(0, undefined, opts, () => 0)).toBe(250);
    expect(retryDelay(0, 3_600_000, opts, () => 0)).toBe(30_000);
  });
});

describe('isTransientStatus', () => {
  it('asks again after the network, a timeout, rate limiting or the server; not after a client error', () => {
    for (const status of [0, 408, 425, 429, 500, 502, 503, 504]) expect(isTransientStatus(status)).toBe(true);
    for (const status of [400, 401, 403, 404, 409, 413, 415, 422])
      expect(isTransientStatus(status)).toBe(false);
    // An answer that came but was not what was asked (a 200 without its body) is not the network's.
    for (const status of [200, 204, 304]) expect(isTransientStatus(status)).toBe(false);
  });
});

describe('retryTransient', () => {
  const fails = (status: number) => Object.assign(new Error(`HTTP ${status}`), { status });
  const byStatus = (err: unknown) => isTransientStatus((err as { status: number }).status);

  /** An attempt that fails with `statuses` in turn, then answers 'ok'; and the waits asked for. */
  function script(statuses: number[]) {
    const waits: number[] = [];
    let calls = 0;
    const attempt = async () => {
      const status = statuses[calls++];
      if (status !== undefined) throw fails(status);
      return 'ok';
    };
    const wait = async (ms: number) => void waits.push(ms);
    return { attempt, wait, waits, calls: () => calls };
  }

  it('answers once a transient failure passes, waiting with backoff between attempts', async () => {
    const s = script([0, 503]);
    const opts = { tries: 5, isTransient: byStatus, wait: s.wait, random: () => 0 };
    await expect(retryTransient(s.attempt, opts)).resolves.toBe('ok');
    expect(s.calls()).toBe(3);
    expect(s.waits).toEqual([250, 500]);
  });

  it('gives up with the last failure when the tries are spent', async () => {
    const s = script([0, 502, 503, 504]);
    await expect(
      retryTransient(s.attempt, { tries: 3, isTransient: byStatus, wait: s.wait }),
    ).rejects.toThrow('HTTP 503');
    expect(s.calls()).toBe(3);
  });

  it('does not ask again after a failure that is the request’s own', async () => {
    const s = script([404]);
    await expect(
      retryTransient(s.attempt, { tries: 5, isTransient: byStatus, wait: s.wait }),
    ).rejects.toThrow('HTTP 404');
    expect(s.calls()).toBe(1);
    expect(s.waits).toEqual([]);
  });

  it('waits as long as the server asks (Retry-After), and shows the failure at once when that is longer than the backoff allows', async () => {
    const s = script([503, 429]);
    const serverWait = (err: unknown) => ((err as { status: number }).status === 503 ? 2_000 : 100);
    const opts = { tries: 5, isTransient: byStatus, serverWait, wait: s.wait, random: () => 0 };
    await expect(retryTransient(s.attempt, opts)).resolves.toBe('ok');
    expect(s.waits).toEqual([2_000, 500]);

    const long = script([503]);
    await expect(
      retryTransient(long.attempt, { ...opts, wait: long.wait, serverWait: () => 120_000 }),
    ).rejects.toThrow('HTTP 503');
    expect(long.calls()).toBe(1);
    expect(long.waits).toEqual([]);
  });

  it('stops when its signal is aborted during a wait, with the failure it had', async () => {
    const abort = new AbortController();
    const s = script([0, 0, 0]);
    const wait = async (ms: number) => {
      s.waits.push(ms);
      abort.abort();
    };
    await expect(
      retryTransient(s.attempt, { tries: 5, isTransient: byStatus, wait, signal: abort.signal }),
    ).rejects.toThrow('HTTP 0');
    expect(s.calls()).toBe(1);
  });

  it('its own wait ends early when the signal is aborted', async () => {
    // A minute's backoff: the test's timeout fails it unless the abort ends the wait.
    const abort = new AbortController();
    const s = script([0]);
    const run = retryTransient(s.attempt, {
      tries: 2,
      isTransient: byStatus,
      signal: abort.signal,
      backoff: { baseMs: 60_000, maxMs: 60_000 },
    });
    setTimeout(() => abort.abort(), 10);
    await expect(run).rejects.toThrow('HTTP 0');
    expect(s.calls()).toBe(1);
  });
});
