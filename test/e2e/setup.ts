// Runs in every browser test file: no page may have hit a Content-Security-Policy violation, and
// no test leaves the network refusing for the next (a failed reconnect test once did).
import { afterAll, afterEach, expect } from 'vitest';
import { network, policyViolations } from './helpers';

afterEach(async () => {
  await network.refuse(false);
});

afterAll(() => {
  expect(policyViolations, 'CSP violations in the site').toEqual([]);
});
