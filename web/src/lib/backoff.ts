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
