// Runs in every browser test file: it launches the file's browser and closes it after. No page may
// have hit a Content-Security-Policy violation, and no test leaves the network refusing (a failed
// reconnect test once did) or a signed-in page open (its streams and presence would fail the next
// test as well).
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { closeBrowser, launchBrowser, network, openContexts, policyViolations } from './helpers';

beforeAll(launchBrowser);

afterEach(async () => {
  await network.refuse(false);
  await Promise.all([...openContexts].map((c) => c.close().catch(() => undefined)));
  openContexts.clear();
});

afterAll(async () => {
  try {
    expect(policyViolations, 'CSP violations in the site').toEqual([]);
  } finally {
    await closeBrowser();
  }
});
