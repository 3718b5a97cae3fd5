import { sign } from 'hono/jwt';
import type { Role } from '../contract/statuses';

// Dev-only: the Worker's /dev/tokens and the token and seed scripts sign with this, so it lives
// where both may import it.

export interface TokenClaims {
  sub: string;
  acct: string;
  role: Role;
  name: string;
}

/** An HS256 token as the identity provider would issue it, valid for `ttlSeconds`. */
export function signToken(claims: TokenClaims, secret: string, ttlSeconds = 12 * 3600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign({ ...claims, iat: now, exp: now + ttlSeconds }, secret, 'HS256');
}
