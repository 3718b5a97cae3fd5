import type { Config } from '../config';
import { createLlmProvider } from './create-provider';
import type { LlmProvider } from './llm-provider';
import type { AiRunner } from './workers-ai-provider';

function aiBinding(env: object): AiRunner | undefined {
  // The AI binding exists only where wrangler.toml declares `[ai]` (production with Workers AI);
  // it is looked up by shape so local setups without it still type-check and run.
  const ai: unknown = (env as Record<string, unknown>).AI;
  return ai && typeof ai === 'object' && 'run' in ai && typeof ai.run === 'function'
    ? (ai as AiRunner)
    : undefined;
}

/** The configured LLM provider, or null for `none` (assessments fall back to the heuristic). */
export function providerFromConfig(config: Config, env: object): LlmProvider | null {
  if (config.LLM_PROVIDER === 'none') return null;
  const binding = aiBinding(env);
  return createLlmProvider({
    provider: config.LLM_PROVIDER,
    openai: {
      baseUrl: config.OPENAI_BASE_URL,
      model: config.OPENAI_MODEL,
      timeoutMs: config.LLM_TIMEOUT_MS,
      ...(config.OPENAI_API_KEY ? { apiKey: config.OPENAI_API_KEY } : {}),
    },
    ...(binding ? { ai: { binding, model: config.WORKERS_AI_MODEL, timeoutMs: config.LLM_TIMEOUT_MS } } : {}),
  });
}
