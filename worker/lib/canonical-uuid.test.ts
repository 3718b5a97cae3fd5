import { describe, expect, it } from 'vitest';
import { canonicalUuid } from './canonical-uuid';

describe('canonicalUuid', () => {
  const canonical = '5b0a6d1e-2c3f-4a5b-8c6d-7e8f9a0b1c2d';

  it('maps every spelling of one UUID to the lower-case hyphenated form', () => {
    for (const spelling of [
      canonical,
      canonical.toUpperCase(),
      canonical.replace(/-/g, ''),
      `{${canonical}}`,
      `urn:uuid:${canonical.toUpperCase()}`,
      ` ${canonical} `,
    ]) {
      expect(canonicalUuid(spelling)).toBe(canonical);
    }
  });

  it('rejects what is not a UUID', () => {
    for (const bad of [
      '',
      'abc',
      `${canonical}0`,
      '5b0a6d1e2c3f-4a5b-8c6d-7e8f9a0b1c2d',
      'zz0a6d1e-2c3f-4a5b-8c6d-7e8f9a0b1c2d',
      42,
      null,
    ]) {
      expect(canonicalUuid(bad)).toBeUndefined();
    }
  });
});
