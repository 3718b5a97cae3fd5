import { log } from '../lib/log';
import { LlmError, type LlmProvider } from './llm-provider';

export interface OpenAiProviderOptions {
  /** e.g. `https://api.openai.com/v1`, Gemini's `.../v1beta/openai`, or a local server. */
  baseUrl: string;
  /** Optional because local OpenAI-compatible servers often need none. */
  apiKey?: string;
  model: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export const DEFAULT_OPENAI_TIMEOUT_MS = 60_000;
const MAX_ERROR_DETAIL = 300;

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Providers put a readable reason in `error.message`; anything else is not worth echoing. */
function errorDetail(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      const error: unknown = parsed.error;
      const message =
        typeof error === 'string'
          ? error
          : typeof error === 'object' &&
              error !== null &&
              'message' in error &&
              typeof error.message === 'string'
            ? error.message
            : '';
      if (message !== '') return `: ${message.slice(0, MAX_ERROR_DETAIL)}`;
    }
  } catch {
    // not JSON: fall through
  }
  return '';
}

function statusError(status: number, detail: string, retryAfterMs: number | undefined): LlmError {
  const opts = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  if (status === 401 || status === 403)
    return new LlmError('auth', `LLM provider rejected the credentials (HTTP ${status})${detail}`, opts);
  if (status === 429)
    return new LlmError('rate_limited', `LLM provider rate limit (HTTP 429)${detail}`, opts);
  if (status === 408) return new LlmError('timeout', `LLM provider timed out (HTTP 408)${detail}`, opts);
  if (status >= 500)
    return new LlmError('provider_error', `LLM provider error (HTTP ${status})${detail}`, opts);
  return new LlmError('bad_request', `LLM provider refused the request (HTTP ${status})${detail}`, opts);
}

/** Some compatible servers send content as an array of parts instead of a string. */
function extractContent(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null || !('choices' in payload)) return undefined;
  const choices = payload.choices;
  if (!Array.isArray(choices)) return undefined;
  const first: unknown = choices[0];
  if (typeof first !== 'object' || first === null || !('message' in first)) return undefined;
  const message = first.message;
  if (typeof message !== 'object' || message === null || !('content' in message)) return undefined;
  const content = message.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts = content.map((part: unknown) =>
      typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string'
        ? part.text
        : '',
    );
    return parts.join('');
  }
  return undefined;
}

function extractModel(payload: unknown, fallback: string): string {
  if (
    typeof payload === 'object' &&
    payload !== null &&
    'model' in payload &&
    typeof payload.model === 'string'
  ) {
    return payload.model;
  }
  return fallback;
}

/** Any OpenAI-compatible `POST /chat/completions` endpoint. */
export function createOpenAiProvider(options: OpenAiProviderOptions): LlmProvider {
  const endpoint = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS;
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  return {
    name: 'openai',
    async complete(req) {
      if (req.signal?.aborted) throw new LlmError('aborted', 'LLM call aborted');
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
      // The caller's abort wins over the timeout when both fired: a cancel is not a provider timeout.
      const abortError = (cause: unknown) =>
        req.signal?.aborted
          ? new LlmError('aborted', 'LLM call aborted', { cause })
          : new LlmError('timeout', `LLM provider did not answer within ${timeoutMs} ms`, { cause });

      const messages = [
        ...(req.system !== undefined && req.system !== '' ? [{ role: 'system', content: req.system }] : []),
        { role: 'user', content: req.prompt },
      ];
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
      };
      if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

      let response: Response;
      let body: string;
      try {
        response = await doFetch(endpoint, {
          method: 'POST',
          headers,
          body: JSON.stringify({ model: options.model, messages }),
          signal,
        });
        body = await response.text();
      } catch (err) {
        if (signal.aborted) throw abortError(err);
        // The runtime's own words (which may carry internal detail) go to the log, not the run.
        log('warn', 'LLM provider unreachable', { endpoint, err });
        throw new LlmError('provider_error', 'LLM provider unreachable', { cause: err });
      }
      if (signal.aborted) throw abortError(signal.reason);

      if (!response.ok) {
        throw statusError(
          response.status,
          errorDetail(body),
          parseRetryAfter(response.headers.get('retry-after')),
        );
      }
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch (err) {
        throw new LlmError('bad_response', 'LLM provider sent invalid JSON', {
          status: response.status,
          cause: err,
        });
      }
      const text = extractContent(payload);
      if (text === undefined) {
        throw new LlmError('bad_response', 'LLM provider response has no choices[0].message.content', {
          status: response.status,
        });
      }
      return { text, model: extractModel(payload, options.model) };
    },
  };
}
