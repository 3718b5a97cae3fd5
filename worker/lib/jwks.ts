import type { HonoJsonWebKey } from 'hono/utils/jwt/jws';
import { identityProviderUnavailable } from './errors';
import { log } from './log';

interface Cached {
  keys: HonoJsonWebKey[];
  fetchedAt: number;
}

const TTL_MS = 10 * 60_000;
// An unknown `kid` may mean the provider rotated its keys; refetch, but not more often than
// this, so tokens with made-up kids cannot turn every request into a fetch to the provider.
const REFETCH_MIN_MS = 60_000;

const cache = new Map<string, Cached>();

/**
 * The provider's signing keys, cached per isolate. A provider that cannot be reached is a 503
 * (nothing is wrong with the caller's token), unless keys fetched earlier are still at hand.
 */
export async function jwksKeys(
  url: string,
  kid: string | undefined,
  now = Date.now(),
  fetcher: typeof fetch = fetch,
): Promise<HonoJsonWebKey[]> {
  const hit = cache.get(url);
  const known = hit !== undefined && (kid === undefined || hit.keys.some((k) => k.kid === kid));
  if (hit && known && now - hit.fetchedAt < TTL_MS) return hit.keys;
  if (hit && !known && now - hit.fetchedAt < REFETCH_MIN_MS) return hit.keys;
  try {
    const res = await fetcher(url, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`JWKS answered ${res.status}`);
    const body = (await res.json()) as { keys?: unknown };
    if (!Array.isArray(body.keys)) throw new Error('JWKS has no keys array');
    const keys = body.keys.filter(
      (k): k is HonoJsonWebKey => typeof k === 'object' && k !== null && 'kty' in k,
    );
    cache.set(url, { keys, fetchedAt: now });
    return keys;
  } catch (err) {
    if (hit) return hit.keys;
    // What went wrong (a driver's or the provider's text) is for the log, not for the caller.
    log('warn', 'JWKS could not be fetched', { err });
    throw identityProviderUnavailable('the identity provider’s signing keys could not be fetched; try again');
  }
}

/** For tests: forget cached key sets. */
export function clearJwksCache(): void {
  cache.clear();
}
