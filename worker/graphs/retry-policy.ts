import type { RetryOn } from '../contract/statuses';
import { LlmError } from '../providers/llm-provider';
import { ToolError } from '../tools/tool';
import { MAX_RETRY_INTERVAL_MS, type RetryPolicy } from './graph-schema';

/** What kind of failure an attempt ended with, as a retry policy's `retry_on` names them. */
export interface FailureKind {
  kind: RetryOn;
  /** The server's `Retry-After`, when it sent one. */
  retryAfterMs?: number;
}

/**
 * Sorts a failed LLM or tool call into one of the `retry_on` kinds. `rate_limited` is HTTP 429
 * (or a provider saying it is over capacity), `http_5xx` a 5xx answer, `timeout` a call that
 * did not answer in time (or HTTP 408); everything else, a dropped stream or a refused request
 * included, is `error`.
 */
export function classifyFailure(err: unknown): FailureKind {
  const retryAfter = (ms: number | undefined) => (ms === undefined ? {} : { retryAfterMs: ms });
  if (err instanceof LlmError) {
    if (err.code === 'rate_limited') return { kind: 'rate_limited', ...retryAfter(err.retryAfterMs) };
    if (err.code === 'timeout') return { kind: 'timeout' };
    if (err.status !== undefined && err.status >= 500)
      return { kind: 'http_5xx', ...retryAfter(err.retryAfterMs) };
    return { kind: 'error' };
  }
  if (err instanceof ToolError) {
    if (err.code === 'timeout') return { kind: 'timeout' };
    if (err.code === 'http_status' && err.status === 429)
      return { kind: 'rate_limited', ...retryAfter(err.retryAfterMs) };
    if (err.code === 'http_status' && err.status === 408) return { kind: 'timeout' };
    if (err.code === 'http_status' && err.status !== undefined && err.status >= 500)
      return { kind: 'http_5xx', ...retryAfter(err.retryAfterMs) };
    return { kind: 'error' };
  }
  return { kind: 'error' };
}

/** Whether attempt `attempt` (1-based) that failed this way is followed by another one. */
export function shouldRetry(policy: RetryPolicy | undefined, attempt: number, failure: FailureKind): boolean {
  return policy !== undefined && attempt < policy.max_attempts && policy.retry_on.includes(failure.kind);
}

/**
 * The wait after failed attempt `attempt` (1-based): exponential from `initial_interval_ms`,
 * capped at `max_interval_ms`. A server's `Retry-After` (sent with a 429 or a 5xx) is honoured
 * even past that cap: retrying earlier would only be refused again. Nothing waits longer than
 * an hour.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, failure: FailureKind): number {
  const backoff = Math.min(
    policy.max_interval_ms,
    policy.initial_interval_ms * policy.backoff_coefficient ** Math.max(0, attempt - 1),
  );
  const wait = Math.max(backoff, failure.retryAfterMs ?? 0);
  return Math.round(Math.min(MAX_RETRY_INTERVAL_MS, wait));
}
