// Runs in every browser test file: no page may have hit a Content-Security-Policy violation, and
// no test leaves the network refusing (a failed reconnect test once did) or a signed-in page open
// (its streams and presence would fail the next test as well).
import { afterAll, afterEach, expect } from 'vitest';
import { network, openContexts, policyViolations } from './helpers';

afterEach(async () => {
  await network.refuse(false);
  await Promise.all([...openContexts].map((c) => c.close().catch(() => undefined)));
  openContexts.clear();
});

afterAll(() => {
  expect(policyViolations, 'CSP violations in the site').toEqual([]);
});
