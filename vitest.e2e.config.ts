import { defineConfig } from 'vitest/config';

// Browser tests: Chromium (Debian's, through playwright-core) against the real local stack,
// which test/e2e/global-setup.ts starts once. `npm run test:e2e`.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    environment: 'node',
    globalSetup: ['./test/e2e/global-setup.ts'],
    setupFiles: ['./test/e2e/setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 150_000,
    teardownTimeout: 30_000,
  },
});
