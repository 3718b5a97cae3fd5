import { utf8Bytes } from '../lib/json-safety';

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
  /**
   * The longest answer the caller can use, in UTF-8 bytes (a run passes its state limit). The
   * provider stops reading there and fails with `too_large`, so a server that never stops talking
   * cannot fill the hub's memory. DEFAULT_MAX_OUTPUT_BYTES when absent.
   */
  maxOutputBytes?: number;
}

/** The answer bound when the caller names none: RUN_STATE_MAX_BYTES's default. */
export const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024;

/**
 * The most of a provider's HTTP body worth reading for an answer of `maxOutputBytes`: JSON may
 * spell a character of the text in up to three times its UTF-8 bytes (`\uXXXX` for a 3-byte
 * character, as servers that escape non-ASCII send it; a surrogate pair for a 4-byte one), and
 * the envelope around it (ids, usage, a stream event's framing) gets 64 KiB.
 */
export const bodyLimitFor = (maxOutputBytes: number) => maxOutputBytes * 3 + 64 * 1024;

/** Counts an answer's UTF-8 bytes as it arrives; `add` fails with `too_large` past the bound. */
export class OutputBudget {
  private used = 0;
  constructor(readonly maxBytes: number) {}

  add(text: string): void {
    this.used += utf8Bytes(text);
    if (this.used > this.maxBytes) throw outputTooLarge(this.maxBytes);
  }
}

export function outputTooLarge(maxBytes: number, cause?: unknown): LlmError {
  return new LlmError(
    'too_large',
    `LLM answer is longer than ${maxBytes} bytes, the most this call can use; reading stopped there`,
    cause === undefined ? {} : { cause },
  );
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
  /** The answer passed the request's `maxOutputBytes`; not read further. */
  | 'too_large'
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

/** A chat message as OpenAI-style APIs (and Workers AI) take it. */
export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

/** A request's messages: the system prompt when there is one, then the prompt. */
export const chatMessages = (req: LlmRequest): ChatMessage[] => [
  ...(req.system !== undefined && req.system !== ''
    ? [{ role: 'system' as const, content: req.system }]
    : []),
  { role: 'user', content: req.prompt },
];

/**
 * What one provider call runs under: the caller's signal (a cancel) joined with the provider's
 * timeout, and the error an abort is. The caller's abort wins over the timeout when both fired: a
 * cancel is not a provider timeout. `who` names the provider in the timeout's message.
 */
export function callSignal(
  req: LlmRequest,
  timeoutMs: number,
  who: string,
): { signal: AbortSignal; abortError: (cause?: unknown) => LlmError } {
  if (req.signal?.aborted) throw abortedError();
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const abortError = (cause?: unknown) =>
    req.signal?.aborted
      ? abortedError(cause)
      : new LlmError('timeout', `${who} did not answer within ${timeoutMs} ms`, { cause });
  return { signal, abortError };
}

/** The JSON of one `data:` of a provider's event stream; `who` names the provider when it is not JSON. */
export function parseStreamEvent(data: string, who: string): unknown {
  try {
    return JSON.parse(data);
  } catch (err) {
    throw new LlmError('bad_response', `${who} sent a stream event that is not JSON`, { cause: err });
  }
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
