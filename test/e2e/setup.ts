// Runs in every browser test file: no page may have hit a Content-Security-Policy violation.
import { afterAll, expect } from 'vitest';
import { policyViolations } from './helpers';

afterAll(() => {
  expect(policyViolations, 'CSP violations in the site').toEqual([]);
});
