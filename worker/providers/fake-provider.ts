import { abortedError, LlmError, type LlmProvider, type LlmRequest } from './llm-provider';

export interface FakeProviderOptions {
  /** Simulated latency, so cancel and timeout paths can be exercised. */
  delayMs?: number;
  /** Overrides the canned answer (tests that need specific model output). */
  respond?: (req: LlmRequest) => string;
  model?: string;
  /** Pause between the words of a streamed answer (default DEFAULT_FAKE_WORD_MS). */
  wordDelayMs?: number;
}

const QUOTE_CHARS = 120;

/** Text without the fake's own directives (below), collapsed and cut to `n` characters. */
const quoted = (text: string, n: number) => {
  const flat = text
    .replace(/\[\[fake:[^\]]*\]\]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
};

/**
 * Deterministic stand-in for a model: the same system + prompt always gives the same text, so runs
 * and tests are reproducible without network or keys. It reads as what it is: labelled `[fake]`,
 * saying that no model answered, and quoting what it was asked.
 */
export function fakeCompletion(req: Pick<LlmRequest, 'prompt' | 'system'>): string {
  const told = req.system ? ` Instructions: “${quoted(req.system, QUOTE_CHARS)}”.` : '';
  return `[fake] No language model is configured (LLM_PROVIDER=fake), so this stands in for its answer.${told} Asked: “${quoted(req.prompt, QUOTE_CHARS)}”.`;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(signal.reason));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal?.reason));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// Directives a prompt may carry, so dev graphs and tests can exercise slow, failing and streaming
// models through the real configuration:
//   `[[fake:delay=250]]`        waits 250 ms before answering (abortably);
//   `[[fake:fail]]`             answers with a non-retryable provider error;
//   `[[fake:word_ms=40]]`       a streamed answer yields a word every 40 ms (default `wordDelayMs`);
//   `[[fake:flaky=2]]`          the first 2 calls with this very prompt (in this isolate) fail like a
//                               dropped connection: a streamed one after yielding half its words;
//   `[[fake:rate_limit=1:3000]]` the first call with this prompt is rate limited, `Retry-After` 3 s.
const DELAY_DIRECTIVE = /\[\[fake:delay=(\d{1,6})\]\]/;
const FAIL_DIRECTIVE = '[[fake:fail]]';
const WORD_MS_DIRECTIVE = /\[\[fake:word_ms=(\d{1,5})\]\]/;
const FLAKY_DIRECTIVE = /\[\[fake:flaky=(\d{1,2})\]\]/;
const RATE_LIMIT_DIRECTIVE = /\[\[fake:rate_limit=(\d{1,2}):(\d{1,7})\]\]/;

/** The default pause between the words of a streamed fake answer. */
export const DEFAULT_FAKE_WORD_MS = 30;

// Calls seen per prompt for `flaky` and `rate_limit`, per isolate; bounded, oldest forgotten first.
const callsByPrompt = new Map<string, number>();
const MAX_REMEMBERED_PROMPTS = 1_000;

function countCall(key: string): number {
  const n = (callsByPrompt.get(key) ?? 0) + 1;
  callsByPrompt.delete(key);
  callsByPrompt.set(key, n);
  if (callsByPrompt.size > MAX_REMEMBERED_PROMPTS) {
    const oldest = callsByPrompt.keys().next().value;
    if (oldest !== undefined) callsByPrompt.delete(oldest);
  }
  return n;
}

/** Whitespace-separated words, for the fake's token counts. */
const wordCount = (text: string) => text.split(/\s+/).filter(Boolean).length;

/** The text cut into words that keep their following whitespace, so they join back exactly. */
export const wordsOf = (text: string) => text.match(/\S+\s*|\s+/g) ?? [];

export function createFakeProvider(options: FakeProviderOptions = {}): LlmProvider {
  const model = options.model ?? 'fake-1';
  return {
    name: 'fake',
    async complete(req) {
      if (req.signal?.aborted) throw abortedError(req.signal.reason);
      const delay = Number(DELAY_DIRECTIVE.exec(req.prompt)?.[1] ?? options.delayMs ?? 0);
      if (delay > 0) await sleep(delay, req.signal);
      if (req.prompt.includes(FAIL_DIRECTIVE)) {
        throw new LlmError('bad_request', 'the fake provider was asked to fail', { retryable: false });
      }
      const call = countCall(`${req.system ?? ''}\u0000${req.prompt}`);
      const limited = RATE_LIMIT_DIRECTIVE.exec(req.prompt);
      if (limited && call <= Number(limited[1])) {
        throw new LlmError('rate_limited', 'the fake provider is rate limited (as asked)', {
          status: 429,
          retryAfterMs: Number(limited[2]),
        });
      }
      const flaky = Number(FLAKY_DIRECTIVE.exec(req.prompt)?.[1] ?? 0);
      const drops = call <= flaky;
      if (req.signal?.aborted) throw abortedError(req.signal.reason);
      const text = options.respond ? options.respond(req) : fakeCompletion(req);
      if (req.onDelta) {
        const wordMs = Number(
          WORD_MS_DIRECTIVE.exec(req.prompt)?.[1] ?? options.wordDelayMs ?? DEFAULT_FAKE_WORD_MS,
        );
        const words = wordsOf(text);
        const upTo = drops ? Math.floor(words.length / 2) : words.length;
        for (let i = 0; i < upTo; i++) {
          if (i > 0 && wordMs > 0) await sleep(wordMs, req.signal);
          req.onDelta(words[i] as string);
        }
      }
      if (drops) {
        throw new LlmError(
          'provider_error',
          `the fake provider dropped the connection (call ${call} of ${flaky} that fail)`,
        );
      }
      if (req.signal?.aborted) throw abortedError(req.signal.reason);
      // Fake tokens: words, so the counts are readable.
      const usage = {
        prompt_tokens: wordCount(`${req.system ?? ''} ${req.prompt}`),
        completion_tokens: wordCount(text),
      };
      return { text, model, usage };
    },
  };
}
