import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOCK_LEEWAY_SECONDS, displayName, MAX_NAME_CHARS, readClaims } from './token-claims';

const NOW = 1_800_000_000;
const sub = '0b0e4f6a-7d1c-4a53-9b57-6f0d1a2b3c4d';
const base = {
  sub,
  acct: 'a6c7e0a2-0f3e-4d3c-8f8a-2b1d4c5e6f70',
  role: 'engineer',
  name: 'Ada',
  exp: NOW + 600,
};

describe('readClaims', () => {
  it('gives 60 s of leeway on exp, nbf and iat, and no more', () => {
    expect(readClaims({ ...base, exp: NOW - 30 }, NOW).ok).toBe(true);
    expect(readClaims({ ...base, exp: NOW - CLOCK_LEEWAY_SECONDS + 1 }, NOW).ok).toBe(true);
    expect(readClaims({ ...base, exp: NOW - CLOCK_LEEWAY_SECONDS }, NOW)).toEqual({
      ok: false,
      reason: 'token expired',
    });
    expect(readClaims({ ...base, nbf: NOW + 60 }, NOW).ok).toBe(true);
    expect(readClaims({ ...base, nbf: NOW + 61 }, NOW)).toMatchObject({
      ok: false,
      reason: 'token not valid yet',
    });
    expect(readClaims({ ...base, iat: NOW + 45 }, NOW).ok).toBe(true);
    expect(readClaims({ ...base, iat: NOW + 61 }, NOW)).toMatchObject({ ok: false });
  });

  it('refuses missing or malformed claims, naming them', () => {
    const { exp: _exp, ...noExp } = base;
    expect(readClaims(noExp, NOW)).toEqual({ ok: false, reason: 'token claims invalid: exp' });
    expect(readClaims({ ...base, sub: 'x', role: 'root' }, NOW)).toEqual({
      ok: false,
      reason: 'token claims invalid: sub, role',
    });
    expect(readClaims({ ...base, exp: Number.POSITIVE_INFINITY }, NOW).ok).toBe(false);
    expect(readClaims('nope', NOW).ok).toBe(false);
  });

  it('never refuses a token for its name', () => {
    fc.assert(
      fc.property(fc.anything(), (name) => {
        const result = readClaims({ ...base, name }, NOW);
        expect(result.ok).toBe(true);
      }),
    );
  });

  // Regression: a token with no `name` claim at all (what JSON makes of an undefined name) was
  // refused with "token claims invalid: name"; found by the reliability suite's fast-check.
  it('accepts a token without a name claim, shown by the stand-in', () => {
    const { name: _name, ...noName } = base;
    expect(readClaims(noName, NOW)).toMatchObject({ ok: true, identity: { name: 'user 0b0e4f6a' } });
  });
});

describe('displayName', () => {
  it('removes control characters, trims and cuts to 200 characters', () => {
    expect(displayName('Ada\u0000 Love\u001blace\u007f\u0085', sub)).toBe('Ada Lovelace');
    expect(displayName('  \u202eevil\u202c  ', sub)).toBe('evil');
    expect(displayName('é'.repeat(500), sub)).toBe('é'.repeat(MAX_NAME_CHARS));
    // An emoji is one character (two UTF-16 units) and is never split.
    expect(Array.from(displayName('😀'.repeat(300), sub))).toHaveLength(MAX_NAME_CHARS);
    expect(displayName('\ud800x', sub)).toBe('\ufffdx');
  });

  it('falls back to a stand-in when nothing is left', () => {
    expect(displayName('\u0001\u0002', sub)).toBe('user 0b0e4f6a');
    expect(displayName(undefined, sub)).toBe('user 0b0e4f6a');
    expect(displayName(42, sub)).toBe('user 0b0e4f6a');
  });

  it('never keeps a control character, never passes 200 characters, never is empty', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), (raw) => {
        const name = displayName(raw, sub);
        expect(name.length).toBeGreaterThan(0);
        expect(Array.from(name).length).toBeLessThanOrEqual(MAX_NAME_CHARS);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
        expect(name).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      }),
    );
  });
});
