import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { app } from '../worker/app';
import { clearJwksCache } from '../worker/lib/jwks';
import { expectError } from './helpers';

const JWKS_URL = 'https://idp.example/.well-known/jwks.json';
const ISSUER = 'https://idp.example/';
const AUDIENCE = 'switchboard';

type Jwk = JsonWebKey & { kid?: string; alg?: string };

async function keyPair(alg: 'RS256' | 'ES256', kid: string) {
  const params =
    alg === 'RS256'
      ? {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        }
      : { name: 'ECDSA', namedCurve: 'P-256' };
  const pair = (await crypto.subtle.generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair;
  const publicJwk = { ...((await crypto.subtle.exportKey('jwk', pair.publicKey)) as Jwk), kid, alg };
  const privateJwk = { ...((await crypto.subtle.exportKey('jwk', pair.privateKey)) as Jwk), kid, alg };
  return { publicJwk, privateJwk, alg };
}

const claims = (over: Record<string, unknown> = {}) => ({
  sub: crypto.randomUUID(),
  acct: crypto.randomUUID(),
  role: 'viewer',
  name: 'Idp User',
  exp: Math.floor(Date.now() / 1000) + 600,
  iss: ISSUER,
  aud: AUDIENCE,
  ...over,
});

describe('RS256/ES256 tokens against JWKS_URL', () => {
  let keys: Jwk[] = [];
  let fetches = 0;
  let idpDown = false;
  const prodEnv = { ...env, JWKS_URL, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE };

  beforeEach(() => {
    clearJwksCache();
    fetches = 0;
    idpDown = false;
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url !== JWKS_URL) return realFetch(input, init);
      fetches++;
      if (idpDown) throw new Error('connection refused');
      return Response.json({ keys });
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const get = (token: string) =>
    app.request(
      '/v1/sessions',
      { headers: { authorization: `Bearer ${token}` } },
      prodEnv,
      createExecutionContext(),
    );

  it('accepts RS256 and ES256 tokens from the provider and caches its keys', async () => {
    const rsa = await keyPair('RS256', 'rsa-1');
    const ec = await keyPair('ES256', 'ec-1');
    keys = [rsa.publicJwk, ec.publicJwk];
    expect((await get(await sign(claims(), rsa.privateJwk, 'RS256'))).status).toBe(200);
    expect((await get(await sign(claims(), ec.privateJwk, 'ES256'))).status).toBe(200);
    expect(fetches).toBe(1);
  });

  it('refuses a wrong issuer or audience, a foreign key with a known kid, and HS256 signed with the public key', async () => {
    const rsa = await keyPair('RS256', 'rsa-1');
    const forged = await keyPair('RS256', 'rsa-1');
    keys = [rsa.publicJwk];
    await expectError(
      await get(await sign(claims({ iss: 'https://evil.example/' }), rsa.privateJwk, 'RS256')),
      401,
    );
    await expectError(await get(await sign(claims({ aud: 'other-app' }), rsa.privateJwk, 'RS256')), 401);
    await expectError(await get(await sign(claims(), forged.privateJwk, 'RS256')), 401);
    // Algorithm confusion: an HS256 token keyed with the public modulus must not verify.
    await expectError(await get(await sign(claims(), rsa.publicJwk.n ?? 'x', 'HS256')), 401);
  });

  it('answers 503 when the provider cannot be reached and no keys are cached', async () => {
    const rsa = await keyPair('RS256', 'rsa-1');
    keys = [rsa.publicJwk];
    idpDown = true;
    await expectError(
      await get(await sign(claims(), rsa.privateJwk, 'RS256')),
      503,
      'identity_provider_unavailable',
    );
  });

  it('refetches once on an unknown kid (key rotation) and then keeps using the cache', async () => {
    const old = await keyPair('RS256', 'k-old');
    const rotated = await keyPair('RS256', 'k-new');
    keys = [old.publicJwk];
    expect((await get(await sign(claims(), old.privateJwk, 'RS256'))).status).toBe(200);
    keys = [old.publicJwk, rotated.publicJwk];
    // Within a minute of the last fetch an unknown kid does not refetch: made-up kids cannot
    // turn every request into a call to the provider.
    await expectError(await get(await sign(claims(), rotated.privateJwk, 'RS256')), 401);
    expect(fetches).toBe(1);
  });
});
