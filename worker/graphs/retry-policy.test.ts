import { describe, expect, it } from 'vitest';
import { LlmError } from '../providers/llm-provider';
import { ToolError } from '../tools/tool';
import { type RetryPolicy, retryPolicySchema } from './graph-schema';
import { classifyFailure, retryDelayMs, shouldRetry } from './retry-policy';

const policy = (p: Partial<RetryPolicy> & { max_attempts: number }): RetryPolicy =>
  retryPolicySchema.parse(p);

describe('classifyFailure', () => {
  it('sorts LLM failures into the retry_on kinds', () => {
    expect(classifyFailure(new LlmError('timeout', 't'))).toEqual({ kind: 'timeout' });
    expect(classifyFailure(new LlmError('rate_limited', 'r', { status: 429, retryAfterMs: 7000 }))).toEqual({
      kind: 'rate_limited',
      retryAfterMs: 7000,
    });
    expect(classifyFailure(new LlmError('provider_error', 'p', { status: 503 }))).toEqual({
      kind: 'http_5xx',
    });
    // A dropped stream or an unreachable server has no status: a plain error.
    expect(classifyFailure(new LlmError('provider_error', 'stream broke off'))).toEqual({ kind: 'error' });
    expect(classifyFailure(new LlmError('auth', 'a', { status: 401 }))).toEqual({ kind: 'error' });
    expect(classifyFailure(new LlmError('bad_response', 'b'))).toEqual({ kind: 'error' });
  });

  it('sorts tool failures by code and HTTP status', () => {
    expect(classifyFailure(new ToolError('timeout', 't'))).toEqual({ kind: 'timeout' });
    expect(classifyFailure(new ToolError('http_status', 's', { status: 429, retryAfterMs: 2000 }))).toEqual({
      kind: 'rate_limited',
      retryAfterMs: 2000,
    });
    expect(classifyFailure(new ToolError('http_status', 's', { status: 408 }))).toEqual({ kind: 'timeout' });
    expect(classifyFailure(new ToolError('http_status', 's', { status: 502 }))).toEqual({ kind: 'http_5xx' });
    expect(classifyFailure(new ToolError('http_status', 's', { status: 404 }))).toEqual({ kind: 'error' });
    expect(classifyFailure(new ToolError('failed', 'f'))).toEqual({ kind: 'error' });
    expect(classifyFailure(new Error('anything'))).toEqual({ kind: 'error' });
  });
});

describe('retry policy', () => {
  it('fills in the defaults around max_attempts', () => {
    expect(policy({ max_attempts: 3 })).toEqual({
      max_attempts: 3,
      initial_interval_ms: 1000,
      backoff_coefficient: 2,
      max_interval_ms: 60_000,
      retry_on: ['timeout', 'error', 'http_5xx', 'rate_limited'],
    });
  });

  it('retries only kinds it lists, and only up to max_attempts', () => {
    const p = policy({ max_attempts: 3, retry_on: ['http_5xx'] });
    expect(shouldRetry(p, 1, { kind: 'http_5xx' })).toBe(true);
    expect(shouldRetry(p, 2, { kind: 'http_5xx' })).toBe(true);
    expect(shouldRetry(p, 3, { kind: 'http_5xx' })).toBe(false);
    expect(shouldRetry(p, 1, { kind: 'error' })).toBe(false);
    expect(shouldRetry(undefined, 1, { kind: 'error' })).toBe(false);
    expect(shouldRetry(policy({ max_attempts: 1 }), 1, { kind: 'error' })).toBe(false);
  });

  it('backs off exponentially up to max_interval_ms', () => {
    const p = policy({
      max_attempts: 10,
      initial_interval_ms: 100,
      backoff_coefficient: 3,
      max_interval_ms: 1000,
    });
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(p, a, { kind: 'error' }))).toEqual([
      100, 300, 900, 1000, 1000,
    ]);
    const flat = policy({ max_attempts: 4, initial_interval_ms: 250, backoff_coefficient: 1 });
    expect([1, 2, 3].map((a) => retryDelayMs(flat, a, { kind: 'error' }))).toEqual([250, 250, 250]);
  });

  it("honours a server's Retry-After, past the cap but never past an hour", () => {
    const p = policy({ max_attempts: 3, initial_interval_ms: 100, max_interval_ms: 1000 });
    expect(retryDelayMs(p, 1, { kind: 'rate_limited', retryAfterMs: 7000 })).toBe(7000);
    expect(retryDelayMs(p, 1, { kind: 'rate_limited', retryAfterMs: 50 })).toBe(100);
    expect(retryDelayMs(p, 1, { kind: 'rate_limited', retryAfterMs: 10 * 3_600_000 })).toBe(3_600_000);
  });
});
