import { abortedError, LlmError, type LlmProvider, type LlmRequest } from './llm-provider';

export interface FakeProviderOptions {
  /** Simulated latency, so cancel and timeout paths can be exercised. */
  delayMs?: number;
  /** Overrides the canned answer (tests that need specific model output). */
  respond?: (req: LlmRequest) => string;
  model?: string;
}

/** FNV-1a over UTF-8: stable across runtimes and synchronous, unlike crypto.subtle digests. */
export function fnv1a32(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

const SUMMARY_CHARS = 80;

/**
 * Deterministic stand-in for a model: the same system + prompt always gives the same text, so runs
 * and tests are reproducible without network or keys.
 */
export function fakeCompletion(req: Pick<LlmRequest, 'prompt' | 'system'>): string {
  const digest = fnv1a32(`${req.system ?? ''}\u0000${req.prompt}`);
  const flat = req.prompt.replace(/\s+/g, ' ').trim();
  const summary = flat.length > SUMMARY_CHARS ? `${flat.slice(0, SUMMARY_CHARS - 1)}…` : flat;
  return `[fake] ${digest} ${summary}`;
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

// Directives a prompt may carry, so dev graphs and tests can exercise slow and failing models
// through the real configuration: `[[fake:delay=250]]` waits 250 ms (abortably), `[[fake:fail]]`
// answers with a non-retryable provider error.
const DELAY_DIRECTIVE = /\[\[fake:delay=(\d{1,6})\]\]/;
const FAIL_DIRECTIVE = '[[fake:fail]]';

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
      if (req.signal?.aborted) throw abortedError(req.signal.reason);
      return { text: options.respond ? options.respond(req) : fakeCompletion(req), model };
    },
  };
}
