import { describe, expect, it } from 'vitest';
import { ConfigError, getConfig } from './config';

const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', JWT_SECRET: 'a-secret-of-enough-length' };

describe('config', () => {
  it('applies the documented defaults', () => {
    const c = getConfig({ ...base });
    expect(c).toMatchObject({
      MAX_RUNS_PER_KEY: 5,
      MAX_RUNS_PER_ACCOUNT: 50,
      RUN_TIMEOUT_SECONDS: 300,
      PAUSE_TIMEOUT_SECONDS: 86_400,
      SSE_KEEPALIVE_MS: 15_000,
      LLM_PROVIDER: 'fake',
      DEV_MODE: false,
      ESCALATION_RETENTION_DAYS: 7,
      ESCALATION_RETENTION_EVENTS: 10_000,
      WEBHOOK_ALLOW_HOSTS: [],
      WEBHOOK_RETRY_SCHEDULE: [5, 300, 1800, 7200, 18_000, 36_000, 36_000],
      WEBHOOK_TIMEOUT_MS: 10_000,
      WEBHOOK_DELIVERY_RETENTION_DAYS: 30,
    });
  });

  it('reads the webhook retry schedule as seconds', () => {
    expect(getConfig({ ...base, WEBHOOK_RETRY_SCHEDULE: '1, 2,4' }).WEBHOOK_RETRY_SCHEDULE).toEqual([
      1, 2, 4,
    ]);
  });

  it('names the missing or invalid setting', () => {
    const fails = (env: Record<string, string>, name: string) => {
      try {
        getConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).message).toContain(name);
        return;
      }
      throw new Error(`expected ${name} to be rejected`);
    };
    fails({ JWT_SECRET: base.JWT_SECRET }, 'DATABASE_URL');
    fails({ ...base, DATABASE_URL: 'mysql://x' }, 'DATABASE_URL');
    fails({ DATABASE_URL: base.DATABASE_URL }, 'JWT_SECRET');
    fails({ ...base, JWT_SECRET: 'short' }, 'JWT_SECRET');
    fails({ ...base, MAX_RUNS_PER_KEY: 'many' }, 'MAX_RUNS_PER_KEY');
    fails({ ...base, LLM_PROVIDER: 'gpt' }, 'LLM_PROVIDER');
    fails({ ...base, ESCALATION_RETENTION_DAYS: '1' }, 'ESCALATION_RETENTION_DAYS');
    fails({ ...base, WEBHOOK_RETRY_SCHEDULE: '1,,4' }, 'WEBHOOK_RETRY_SCHEDULE');
    fails({ ...base, WEBHOOK_RETRY_SCHEDULE: '1,0.5' }, 'WEBHOOK_RETRY_SCHEDULE');
    fails({ ...base, PUBLIC_URL: 'not a url' }, 'PUBLIC_URL');
  });
});
