import { log } from '../lib/log';
import { EventTooLargeError, readEventStream } from './event-stream-body';
import {
  bodyLimitFor,
  type ChatMessage,
  callSignal,
  chatMessages,
  DEFAULT_MAX_OUTPUT_BYTES,
  LlmError,
  type LlmProvider,
  type LlmTokenUsage,
  OutputBudget,
  outputTooLarge,
  parseStreamEvent,
  raceAbort,
  readUsage,
} from './llm-provider';

/**
 * The slice of the `AI` binding this provider uses, typed structurally so this module builds and
 * tests without the workers types; `env.AI` is assignable to it as is.
 */
export interface AiRunner {
  run(
    model: string,
    inputs: { messages: ChatMessage[]; stream?: boolean },
    options?: { signal?: AbortSignal },
  ): Promise<unknown>;
}

export interface WorkersAiProviderOptions {
  binding: AiRunner;
  model?: string;
  timeoutMs?: number;
}

export const DEFAULT_WORKERS_AI_MODEL = '@cf/meta/llama-3.1-8b-instruct';
export const DEFAULT_WORKERS_AI_TIMEOUT_MS = 60_000;

/** Text models answer `{response}`; some newer ones answer in the OpenAI `choices` shape. */
function extractText(output: unknown): string | undefined {
  if (typeof output !== 'object' || output === null) return undefined;
  if ('response' in output && typeof output.response === 'string') return output.response;
  if ('choices' in output && Array.isArray(output.choices)) {
    const first: unknown = output.choices[0];
    if (typeof first === 'object' && first !== null && 'message' in first) {
      const message = first.message;
      if (
        typeof message === 'object' &&
        message !== null &&
        'content' in message &&
        typeof message.content === 'string'
      ) {
        return message.content;
      }
    }
  }
  return undefined;
}

/**
 * The binding throws plain Errors whose messages carry Workers AI's numeric codes; capacity and
 * rate-limit codes (3040, 3036) are worth retrying, and so is anything we cannot classify. The
 * message itself is the runtime's (it may carry internal detail): it goes to the log, and the
 * error that reaches a run or a card says what happened in fixed words, with the code if any.
 */
function mapBindingError(err: unknown): LlmError {
  const message = err instanceof Error ? err.message : String(err);
  const code = /\b([35]\d{3})\b/.exec(message)?.[1];
  const withCode = code === undefined ? '' : ` (Workers AI code ${code})`;
  log('warn', 'Workers AI failed', { err });
  if (/\b(3040|3036)\b|capacity|rate limit/i.test(message)) {
    return new LlmError('rate_limited', `Workers AI is rate limited${withCode}`, { cause: err });
  }
  if (/\b(5007|5006|5004)\b|invalid input|bad input/i.test(message)) {
    return new LlmError('bad_request', `Workers AI refused the request${withCode}`, { cause: err });
  }
  return new LlmError('provider_error', `Workers AI failed${withCode}`, { cause: err });
}

/**
 * A streamed answer: the binding gives a `text/event-stream` body of `data: {"response": "…"}`
 * events, the last ones carrying `usage` on models that count, then `data: [DONE]`.
 */
async function readStream(
  body: ReadableStream<Uint8Array>,
  onDelta: (text: string) => void,
  signal: AbortSignal,
  maxOutputBytes: number,
): Promise<{ text: string; usage?: LlmTokenUsage }> {
  const budget = new OutputBudget(maxOutputBytes);
  let text = '';
  let usage: LlmTokenUsage | undefined;
  const end = await readEventStream(
    body,
    (data) => {
      if (data.trim() === '[DONE]') return 'done';
      const chunk = parseStreamEvent(data, 'Workers AI');
      if (typeof chunk !== 'object' || chunk === null) return undefined;
      const piece = 'response' in chunk && typeof chunk.response === 'string' ? chunk.response : '';
      if (piece !== '') {
        budget.add(piece);
        text += piece;
        onDelta(piece);
      }
      if ('usage' in chunk) usage = readUsage(chunk.usage) ?? usage;
      return undefined;
    },
    signal,
    bodyLimitFor(maxOutputBytes),
  ).catch((err: unknown) => {
    throw err instanceof EventTooLargeError ? outputTooLarge(maxOutputBytes, err) : err;
  });
  if (!end.finished)
    throw new LlmError('provider_error', 'Workers AI stream ended before the answer was finished');
  return { text, ...(usage ? { usage } : {}) };
}

export function createWorkersAiProvider(options: WorkersAiProviderOptions): LlmProvider {
  const model = options.model ?? DEFAULT_WORKERS_AI_MODEL;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WORKERS_AI_TIMEOUT_MS;
  return {
    name: 'workers-ai',
    async complete(req) {
      const { signal, abortError } = callSignal(req, timeoutMs, 'Workers AI');
      const messages = chatMessages(req);
      const streaming = req.onDelta !== undefined;
      const maxOutputBytes = req.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
      try {
        // The binding may ignore the signal; raceAbort makes cancel prompt either way.
        const output = await raceAbort(
          options.binding.run(model, { messages, ...(streaming ? { stream: true } : {}) }, { signal }),
          signal,
          abortError,
        );
        if (streaming && req.onDelta && output instanceof ReadableStream) {
          // Cancel (or the timeout) cancels the body, which ends the upstream stream too.
          const body = output as ReadableStream<Uint8Array>;
          const streamed = await raceAbort(
            readStream(body, req.onDelta, signal, maxOutputBytes),
            signal,
            abortError,
          );
          return { text: streamed.text, model, ...(streamed.usage ? { usage: streamed.usage } : {}) };
        }
        const text = extractText(output);
        if (text === undefined)
          throw new LlmError('bad_response', 'Workers AI response has no text "response"');
        // The binding has read the whole answer already; it is still refused past the bound.
        new OutputBudget(maxOutputBytes).add(text);
        // A model that answered whole although asked to stream: one piece.
        if (streaming && text !== '') req.onDelta?.(text);
        const usage =
          typeof output === 'object' && output !== null && 'usage' in output
            ? readUsage(output.usage)
            : undefined;
        return { text, model, ...(usage ? { usage } : {}) };
      } catch (err) {
        if (err instanceof LlmError) throw err;
        if (signal.aborted) throw abortError();
        throw mapBindingError(err);
      }
    },
  };
}
