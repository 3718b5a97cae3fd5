/**
 * Tools are the side-effecting steps of a graph run. They receive everything they may touch through
 * `ctx` (no globals), so the hub can abort them on cancel and tests can inject a fake `fetch`.
 */

export interface ToolContext {
  /** Aborted on cancel or run timeout; tools must pass it to any I/O they start. */
  signal: AbortSignal;
  fetch: typeof fetch;
  /** Host allow-list for network tools: exact hosts or `*.suffix` patterns. */
  allowHosts: readonly string[];
}

export interface Tool {
  readonly name: string;
  /**
   * Args that are URL templates: each value substituted into them is percent-encoded, so a value
   * from the run's state can never change a URL's host, path or query structure.
   */
  readonly urlArgs?: readonly string[];
  run(args: Record<string, unknown>, ctx: ToolContext): Promise<unknown>;
}

export type ToolErrorCode =
  | 'bad_args'
  | 'not_allowed'
  | 'redirect'
  | 'http_status'
  | 'too_large'
  | 'bad_response'
  | 'network'
  | 'timeout'
  | 'aborted'
  | 'failed';

/**
 * The one error type a graph can route on (`tool_error` conditions). The message is shown to users
 * in run events, so it must never contain secrets.
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  readonly code: ToolErrorCode;
  /** The HTTP status a network tool was answered with (code `http_status`). */
  readonly status?: number;
  /** From the answer's `Retry-After`, when it sent one: a retry policy waits at least this long. */
  readonly retryAfterMs?: number;

  constructor(
    code: ToolErrorCode,
    message: string,
    options?: { cause?: unknown; status?: number; retryAfterMs?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.status !== undefined) this.status = options.status;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
