import { beforeEach, describe, expect, it } from 'vitest';
import { clearJwksCache, jwksKeys } from './jwks';

const URL = 'https://idp.example/jwks';

function idp() {
  const state = { keys: [{ kty: 'RSA', kid: 'a' }] as { kty: string; kid: string }[], calls: 0, down: false };
  const fetcher = (async () => {
    state.calls++;
    if (state.down) throw new Error('down');
    return Response.json({ keys: state.keys });
  }) as unknown as typeof fetch;
  return { state, fetcher };
}

describe('jwksKeys', () => {
  beforeEach(() => clearJwksCache());

  it('caches for ten minutes, refetches on an unknown kid at most once a minute', async () => {
    const { state, fetcher } = idp();
    const t0 = 1_000_000;
    await jwksKeys(URL, 'a', t0, fetcher);
    await jwksKeys(URL, 'a', t0 + 9 * 60_000, fetcher);
    expect(state.calls).toBe(1);
    state.keys = [...state.keys, { kty: 'RSA', kid: 'b' }];
    expect((await jwksKeys(URL, 'b', t0 + 30_000, fetcher)).map((k) => k.kid)).toEqual(['a']);
    expect(state.calls).toBe(1);
    expect((await jwksKeys(URL, 'b', t0 + 61_000, fetcher)).map((k) => k.kid)).toEqual(['a', 'b']);
    expect(state.calls).toBe(2);
    await jwksKeys(URL, 'a', t0 + 61_000 + 11 * 60_000, fetcher);
    expect(state.calls).toBe(3);
  });

  it('keeps serving cached keys while the provider is down, and is a 503 without them', async () => {
    const { state, fetcher } = idp();
    await jwksKeys(URL, 'a', 0, fetcher);
    state.down = true;
    expect(await jwksKeys(URL, 'a', 20 * 60_000, fetcher)).toHaveLength(1);
    clearJwksCache();
    await expect(jwksKeys(URL, 'a', 0, fetcher)).rejects.toMatchObject({ status: 503 });
  });
});
