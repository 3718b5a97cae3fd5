/** Reconnect delays: exponential in the attempt number, capped, with jitter so clients spread out. */
export interface BackoffOptions {
  /** The ceiling of the first delay. */
  baseMs: number;
  /** No delay is longer than this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * The delay before reconnect number `attempt` (0 for the first): "equal jitter", uniformly between
 * half and all of min(maxMs, baseMs * 2^attempt). Never zero, so a server that closes at once is
 * not hammered; never above maxMs.
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}

/**
 * The delay before attempt `attempt + 1` when the server may have named a wait of its own
 * (`Retry-After`): the backoff's, or the server's when longer; either held to maxMs.
 */
export function retryDelay(
  attempt: number,
  serverWaitMs: number | undefined,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  return Math.min(opts.maxMs, Math.max(backoffDelay(attempt, opts, random), serverWaitMs ?? 0));
}

/**
 * Whether asking again may get a different answer: the network (status 0), the server's own
 * trouble (5xx), a timeout (408), too early (425) or rate limiting (429). Any other answer came
 * and would come again: a 4xx is the request's fault, a 2xx without the body asked for the server's.
 */
export const isTransientStatus = (status: number): boolean =>
  status === 0 || status >= 500 || status === 408 || status === 425 || status === 429;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });

export interface RetryOptions {
  /** Attempts in all, the first included. */
  tries: number;
  /** Whether a failure is worth another attempt. */
  isTransient: (err: unknown) => boolean;
  /**
   * The wait the server asked for with a failure (`Retry-After`): the next attempt waits at least
   * that long, and one longer than the backoff's ceiling ends the attempts (the failure is shown).
   */
  serverWait?: (err: unknown) => number | undefined;
  /** Stops waiting and retrying: the last failure is thrown. */
  signal?: AbortSignal;
  backoff?: BackoffOptions;
  random?: () => number;
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * `attempt()`'s result, asking again after a transient failure (with backoffDelay between) until
 * `tries` are spent: a read cut by a blip of the network should not leave a page in error.
 */
export async function retryTransient<T>(attempt: () => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n + 1 >= opts.tries || opts.signal?.aborted || !opts.isTransient(err)) throw err;
      const backoff = opts.backoff ?? DEFAULT_BACKOFF;
      const asked = opts.serverWait?.(err);
      if (asked !== undefined && asked > backoff.maxMs) throw err;
      await (opts.wait ?? sleep)(retryDelay(n, asked, backoff, opts.random), opts.signal);
      if (opts.signal?.aborted) throw err;
    }
  }
}
