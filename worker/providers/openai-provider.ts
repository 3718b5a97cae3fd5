import { parseRetryAfter } from '../contract/retry-after';
import { readBodyUpTo } from '../lib/bounded-body';
import { log } from '../lib/log';
import { EventTooLargeError, readEventStream } from './event-stream-body';
import {
  bodyLimitFor,
  callSignal,
  chatMessages,
  DEFAULT_MAX_OUTPUT_BYTES,
  LlmError,
  type LlmProvider,
  type LlmRequest,
  type LlmResponse,
  type LlmTokenUsage,
  OutputBudget,
  outputTooLarge,
  parseStreamEvent,
  readUsage,
} from './llm-provider';

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
/** An error answer is read this far for its `error.message`; the rest is not worth holding. */
const ERROR_BODY_BYTES = 16 * 1024;

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

/** Text that is a string, or an array of `{text}` parts (some compatible servers send that). */
function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string'
          ? part.text
          : '',
      )
      .join('');
  }
  return undefined;
}

const field = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null && key in value
    ? (value as Record<string, unknown>)[key]
    : undefined;

const firstChoice = (payload: unknown): unknown => {
  const choices = field(payload, 'choices');
  return Array.isArray(choices) ? choices[0] : undefined;
};

/** `choices[0].message.content` of a whole answer. */
function extractContent(payload: unknown): string | undefined {
  return textOf(field(field(firstChoice(payload), 'message'), 'content'));
}

function extractModel(payload: unknown, fallback: string): string {
  const model = field(payload, 'model');
  return typeof model === 'string' ? model : fallback;
}

/** A provider's `{error: {message}}` (or `{error: "..."}`) inside a stream event. */
function streamError(payload: unknown): string | undefined {
  const error = field(payload, 'error');
  if (error === undefined || error === null) return undefined;
  if (typeof error === 'string') return error.slice(0, MAX_ERROR_DETAIL);
  const message = field(error, 'message');
  return typeof message === 'string' ? message.slice(0, MAX_ERROR_DETAIL) : 'unknown error';
}

/** Any OpenAI-compatible `POST /chat/completions` endpoint, whole or streamed. */
export function createOpenAiProvider(options: OpenAiProviderOptions): LlmProvider {
  const endpoint = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS;
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  return {
    name: 'openai',
    async complete(req) {
      // One bound for the whole call, stream included: a stream that stalls ends as a timeout.
      const { signal, abortError } = callSignal(req, timeoutMs, 'LLM provider');
      const streaming = req.onDelta !== undefined;

      const messages = chatMessages(req);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: streaming ? 'text/event-stream' : 'application/json',
      };
      if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
      const request = {
        model: options.model,
        messages,
        ...(streaming ? { stream: true, stream_options: { include_usage: true } } : {}),
      };

      let response: Response;
      try {
        response = await doFetch(endpoint, {
          method: 'POST',
          headers,
          body: JSON.stringify(request),
          signal,
        });
      } catch (err) {
        if (signal.aborted) throw abortError(err);
        // The runtime's own words (which may carry internal detail) go to the log, not the run.
        log('warn', 'LLM provider unreachable', { endpoint, err });
        throw new LlmError('provider_error', 'LLM provider unreachable', { cause: err });
      }
      const maxOutputBytes = req.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
      const isEventStream = (response.headers.get('content-type') ?? '').includes('text/event-stream');
      if (response.ok && streaming && isEventStream && req.onDelta) {
        return readStreamedAnswer(response, req.onDelta, signal, abortError, options.model, maxOutputBytes);
      }

      let body: string;
      try {
        // Never `response.text()`: a server that sends without end would fill the hub's memory.
        const read = await readBodyUpTo(
          response,
          response.ok ? bodyLimitFor(maxOutputBytes) : ERROR_BODY_BYTES,
        );
        if (read.truncated && response.ok) throw outputTooLarge(maxOutputBytes);
        body = new TextDecoder().decode(read.bytes);
      } catch (err) {
        if (err instanceof LlmError) throw err;
        if (signal.aborted) throw abortError(err);
        // As above: the runtime's words are for the log; the run and the card get a fixed text.
        log('warn', 'LLM provider answer could not be read', { endpoint, err });
        throw new LlmError('provider_error', 'LLM provider answer could not be read (the connection broke)', {
          cause: err,
        });
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
      new OutputBudget(maxOutputBytes).add(text);
      // A server that ignored `stream: true` answered whole: hand the text over as one piece.
      if (streaming && text !== '') req.onDelta?.(text);
      const usage = readUsage(field(payload, 'usage'));
      return { text, model: extractModel(payload, options.model), ...(usage ? { usage } : {}) };
    },
  };
}

/**
 * A streamed chat completion (`data: {choices: [{delta: {content}}]}` events, a last event with
 * `usage` when `stream_options.include_usage` is honoured, then `data: [DONE]`). A stream that
 * ends before `[DONE]` and before any `finish_reason` broke off: that is an error, not a short
 * answer.
 */
async function readStreamedAnswer(
  response: Response,
  onDelta: NonNullable<LlmRequest['onDelta']>,
  signal: AbortSignal,
  abortError: (cause?: unknown) => LlmError,
  fallbackModel: string,
  maxOutputBytes: number,
): Promise<LlmResponse> {
  const budget = new OutputBudget(maxOutputBytes);
  let text = '';
  let model = fallbackModel;
  let usage: LlmTokenUsage | undefined;
  let finishReason = false;
  if (!response.body) throw new LlmError('bad_response', 'LLM provider sent an empty stream');
  let end: { finished: boolean };
  try {
    end = await readEventStream(
      response.body,
      (data) => {
        if (data.trim() === '[DONE]') return 'done';
        const chunk = parseStreamEvent(data, 'LLM provider');
        const failed = streamError(chunk);
        if (failed !== undefined)
          throw new LlmError('provider_error', `LLM provider failed mid-stream: ${failed}`);
        model = extractModel(chunk, model);
        usage = readUsage(field(chunk, 'usage')) ?? usage;
        const choice = firstChoice(chunk);
        const piece = textOf(field(field(choice, 'delta'), 'content'));
        if (piece) {
          // Counted before it is kept or handed on: past the bound, reading stops here.
          budget.add(piece);
          text += piece;
          onDelta(piece);
        }
        const finish = field(choice, 'finish_reason');
        if (typeof finish === 'string' && finish !== '') finishReason = true;
        return undefined;
      },
      undefined,
      bodyLimitFor(maxOutputBytes),
    );
  } catch (err) {
    if (err instanceof LlmError) throw err;
    if (err instanceof EventTooLargeError) throw outputTooLarge(maxOutputBytes, err);
    if (signal.aborted) throw abortError(err);
    log('warn', 'LLM provider stream broke off', { err });
    throw new LlmError('provider_error', 'LLM provider stream broke off (the connection broke)', {
      cause: err,
    });
  }
  if (signal.aborted) throw abortError(signal.reason);
  if (!end.finished && !finishReason) {
    throw new LlmError('provider_error', 'LLM provider stream ended before the answer was finished');
  }
  return { text, model, ...(usage ? { usage } : {}) };
}
