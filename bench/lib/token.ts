import { randomUUID } from 'node:crypto';
import { signToken, type TokenClaims } from '../../worker/dev/sign-token';

/**
 * A token for a user the benchmark or the reliability suite plays: a new engineer named "Bench
 * Engineer" unless the claims say otherwise.
 */
export function benchToken(
  claims: Partial<TokenClaims> & { acct: string },
  secret: string,
  ttlSeconds?: number,
): Promise<string> {
  return signToken(
    {
      sub: claims.sub ?? randomUUID(),
      acct: claims.acct,
      role: claims.role ?? 'engineer',
      name: claims.name ?? 'Bench Engineer',
    },
    secret,
    ttlSeconds,
  );
}
