import { createFakeProvider, type FakeProviderOptions } from './fake-provider';
import type { LlmProvider } from './llm-provider';
import { createOpenAiProvider } from './openai-provider';
import { type AiRunner, createWorkersAiProvider } from './workers-ai-provider';

export type LlmProviderName = 'fake' | 'openai' | 'workers-ai';

/** Plain data (plus the AI binding), so it can be assembled from env vars by the config module. */
export interface LlmProviderConfig {
  provider: LlmProviderName;
  fake?: FakeProviderOptions;
  openai?: { baseUrl: string; apiKey?: string; model: string; timeoutMs?: number };
  ai?: { binding: AiRunner; model?: string; timeoutMs?: number };
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** Thrown at startup-time configuration, never per request, so it is a plain Error subclass. */
export class LlmConfigError extends Error {
  override readonly name = 'LlmConfigError';
}

export function createLlmProvider(cfg: LlmProviderConfig): LlmProvider {
  switch (cfg.provider) {
    case 'fake':
      return createFakeProvider(cfg.fake);
    case 'openai': {
      const o = cfg.openai;
      if (!o || o.baseUrl === '' || o.model === '') {
        throw new LlmConfigError('provider "openai" needs openai.baseUrl and openai.model');
      }
      try {
        new URL(o.baseUrl);
      } catch {
        throw new LlmConfigError(`openai.baseUrl is not a URL: ${o.baseUrl}`);
      }
      return createOpenAiProvider({
        baseUrl: o.baseUrl,
        model: o.model,
        ...(o.apiKey !== undefined && o.apiKey !== '' ? { apiKey: o.apiKey } : {}),
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        ...(cfg.fetch ? { fetch: cfg.fetch } : {}),
      });
    }
    case 'workers-ai': {
      if (!cfg.ai?.binding)
        throw new LlmConfigError('provider "workers-ai" needs the AI binding (ai.binding)');
      return createWorkersAiProvider({
        binding: cfg.ai.binding,
        ...(cfg.ai.model !== undefined && cfg.ai.model !== '' ? { model: cfg.ai.model } : {}),
        ...(cfg.ai.timeoutMs !== undefined ? { timeoutMs: cfg.ai.timeoutMs } : {}),
      });
    }
    default: {
      const unknown: never = cfg.provider;
      throw new LlmConfigError(`unknown LLM provider: ${String(unknown)}`);
    }
  }
}
