import { z } from 'zod';

// Every setting Switchboard reads, validated in one place. A missing or malformed value fails
// the request with a message naming the setting instead of surfacing later as an odd 500.

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1');
const list = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** DESIGN.md's delays between webhook delivery attempts: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = '5,300,1800,7200,18000,36000,36000';
const secondsList = z
  .string()
  .default(DEFAULT_WEBHOOK_RETRY_SCHEDULE)
  .transform((v, ctx) => {
    const parts = v.split(',').map((s) => s.trim());
    const seconds = parts.map(Number);
    if (parts.length > 20 || seconds.some((n, i) => parts[i] === '' || !Number.isInteger(n) || n < 1)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be at most 20 whole numbers of seconds, each ≥ 1, comma-separated',
      });
      return z.NEVER;
    }
    return seconds;
  });

export const configSchema = z
  .object({
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
    // Local and test setups only: host:port/path of the WebSocket-to-TCP bridge the Neon driver uses.
    NEON_WS_PROXY: z.string().optional(),
    // One-shot statements over the Neon driver's HTTP path instead of a new WebSocket connection.
    NEON_HTTP_QUERIES: z
      .enum(['true', 'false', '1', '0'])
      .default('true')
      .transform((v) => v === 'true' || v === '1'),
    JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    JWKS_URL: z.url().optional(),
    JWT_ISSUER: z.string().min(1).optional(),
    JWT_AUDIENCE: z.string().min(1).optional(),
    DEV_MODE: flag,
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    LLM_PROVIDER: z.enum(['none', 'fake', 'openai', 'workers-ai']).default('fake'),
    OPENAI_BASE_URL: z.url().default('https://api.openai.com/v1'),
    OPENAI_API_KEY: z.string().optional(),
    OPENAI_MODEL: z.string().default('gpt-4o-mini'),
    WORKERS_AI_MODEL: z.string().default('@cf/meta/llama-3.1-8b-instruct'),
    LLM_TIMEOUT_MS: int(30_000, 1),
    HTTP_GET_ALLOW_HOSTS: list,
    MAX_RUNS_PER_KEY: int(5, 1),
    MAX_RUNS_PER_ACCOUNT: int(50, 1),
    MAX_PAUSED_RUNS_PER_ACCOUNT: int(1_000, 1),
    MAX_STREAMS_PER_USER: int(20, 1),
    MAX_HANDOFFS_PER_MINUTE: int(30, 1),
    TEMPLATE_MAX_BYTES: int(32 * 1024, 64),
    // Every node_completed frame carries the whole state: capped so no SSE frame passes 1 MiB.
    RUN_STATE_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(960 * 1024, 'must be at most 983040 (960 KiB), so a frame carrying the state stays under 1 MiB')
      .default(256 * 1024),
    RUN_TIMEOUT_SECONDS: int(300, 1),
    PAUSE_TIMEOUT_SECONDS: int(86_400, 1),
    SSE_KEEPALIVE_MS: int(15_000, 10),
    SSE_RETRY_MS: int(3_000, 0),
    SSE_BUFFER_BYTES: int(1_048_576, 1024),
    ESCALATION_RETENTION_DAYS: int(7, 7),
    ESCALATION_RETENTION_EVENTS: int(10_000, 10_000),
    OUTBOX_REDELIVER_AFTER_SECONDS: int(30, 0),
    // Outbound webhooks (docs/webhooks.md). Hosts that may be reached over http or on a private
    // or loopback address; every other target must be public https.
    WEBHOOK_ALLOW_HOSTS: list,
    WEBHOOK_RETRY_SCHEDULE: secondsList,
    WEBHOOK_TIMEOUT_MS: int(10_000, 100),
    WEBHOOK_DELIVERY_RETENTION_DAYS: int(30, 1),
    // Each endpoint is a job per event, so their number is bounded; past it 409, not 429: the
    // account holds too many, and waiting would not change the answer.
    MAX_WEBHOOKS_PER_ACCOUNT: int(50, 1),
    // Where the site is served, for links that leave it (the Slack button to a card).
    PUBLIC_URL: z.url().optional(),
    // Past this many subscribers an account hub sends new ones to relay hubs of this size (DESIGN "Scale").
    RELAY_FANOUT_THRESHOLD: int(500, 1),
  })
  .refine((c) => c.JWT_SECRET !== undefined || c.JWKS_URL !== undefined, {
    message: 'set JWT_SECRET or JWKS_URL',
    path: ['JWT_SECRET'],
  });

export type Config = z.infer<typeof configSchema>;

/** Every setting's name: what `npm run dev` forwards from its environment to the Worker. */
export const SETTING_NAMES = Object.keys(configSchema.shape) as (keyof Config)[];

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration: ${issues.join('; ')}`);
  }
}

const cache = new WeakMap<object, Config>();

/** Reads the validated configuration for a Worker or Durable Object `env`. */
export function getConfig(env: object): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`));
  }
  cache.set(env, parsed.data);
  return parsed.data;
}
