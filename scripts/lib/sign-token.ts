import { sign } from 'hono/jwt';

export interface TokenClaims {
  sub: string;
  acct: string;
  role: 'engineer' | 'admin' | 'viewer';
  name: string;
}

/** An HS256 token as the identity provider would issue it, valid for `ttlSeconds`. */
export function signToken(claims: TokenClaims, secret: string, ttlSeconds = 12 * 3600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign({ ...claims, iat: now, exp: now + ttlSeconds }, secret, 'HS256');
}
