/** The seam between graph runs (and handoff assessments) and whichever model answers them. */

export interface LlmRequest {
  prompt: string;
  system?: string;
  /** Aborted on cancel or run timeout; providers must stop the in-flight call (and its stream). */
  signal?: AbortSignal;
  /**
   * When set, the provider streams: it calls this with each piece of text as it arrives, and
   * still answers the whole text at the end. A stream that breaks off is an error, never a short
   * answer.
   */
  onDelta?: (text: string) => void;
}

/** Tokens the call used, as the provider counted them. */
export interface LlmTokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface LlmResponse {
  text: string;
  model: string;
  /** Absent when the provider did not say. */
  usage?: LlmTokenUsage;
}

export interface LlmProvider {
  readonly name: string;
  complete(req: LlmRequest): Promise<LlmResponse>;
}

export type LlmErrorCode =
  | 'timeout'
  | 'rate_limited'
  | 'auth'
  | 'bad_request'
  | 'provider_error'
  | 'bad_response'
  | 'aborted';

/** Codes worth retrying later with the same request. */
const RETRYABLE: ReadonlySet<LlmErrorCode> = new Set(['timeout', 'rate_limited', 'provider_error']);

/**
 * Every provider failure is normalised to this, so callers decide on retries and messages without
 * knowing the provider. Messages may reach users: never put keys or full request bodies in them.
 */
export class LlmError extends Error {
  override readonly name = 'LlmError';
  readonly code: LlmErrorCode;
  readonly status?: number;
  readonly retryable: boolean;
  /** From `Retry-After`, when the provider sent one. */
  readonly retryAfterMs?: number;

  constructor(
    code: LlmErrorCode,
    message: string,
    options: { status?: number; retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    this.retryable = options.retryable ?? RETRYABLE.has(code);
  }
}

export function abortedError(cause?: unknown): LlmError {
  return new LlmError('aborted', 'LLM call aborted', { cause });
}

/**
 * Settles as soon as `signal` aborts even if `promise` ignores it, so a cancel never waits on a
 * provider that does not honour abort.
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort: () => Error,
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(onAbort());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(err);
      },
    );
  });
}

/** `{prompt_tokens, completion_tokens}` from a provider's `usage` object, if it holds both as numbers. */
export function readUsage(value: unknown): LlmTokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { prompt_tokens, completion_tokens } = value as Record<string, unknown>;
  const count = (n: unknown) =>
    typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.round(n) : undefined;
  const prompt = count(prompt_tokens);
  const completion = count(completion_tokens);
  return prompt === undefined || completion === undefined
    ? undefined
    : { prompt_tokens: prompt, completion_tokens: completion };
}
