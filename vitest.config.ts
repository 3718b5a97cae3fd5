import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          DATABASE_URL: inject('databaseUrl'),
          NEON_WS_PROXY: inject('wsProxy'),
          JWT_SECRET: 'test-secret-0123456789abcdef',
          LOG_LEVEL: 'warn',
          SSE_KEEPALIVE_MS: '200',
          // DESIGN "Scale": the suite covers relay hubs with a low threshold; an account's sixth
          // subscriber already goes through a relay.
          RELAY_FANOUT_THRESHOLD: '5',
          // The fake OpenAI-compatible server (test/setup/fake-openai.ts).
          OPENAI_FAKE_URL: inject('openaiUrl'),
          // The loopback server for http_get nodes (test/setup/loopback-http.ts), allow-listed by
          // host and port: an entry without a port would allow only port 80.
          TEST_HTTP_URL: inject('httpUrl'),
          HTTP_GET_ALLOW_HOSTS: new URL(inject('httpUrl')).host,
          // The loopback webhook receiver (test/setup/webhook-receiver.ts), allow-listed; a short
          // retry schedule and timeout, so the retry and timeout paths finish within a test.
          TEST_WEBHOOK_URL: inject('webhookUrl'),
          WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
          WEBHOOK_RETRY_SCHEDULE: '1,2,4',
          WEBHOOK_TIMEOUT_MS: '1500',
          PUBLIC_URL: 'https://switchboard.example',
          // Off in tests whatever a local .dev.vars says; test/dev-tokens.test.ts turns it on per request.
          DEV_MODE: 'false',
        },
      },
    })),
  ],
  test: {
    globalSetup: ['./test/setup/global-setup.ts'],
    include: ['worker/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.ts', 'scripts/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
