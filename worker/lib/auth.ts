import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { jwk } from 'hono/jwk';
import { jwt } from 'hono/jwt';
import { decodeHeader } from 'hono/utils/jwt/jwt';
import type { AppEnv, Role } from './app-env';
import { forbidden, unauthorized } from './errors';
import { jwksKeys } from './jwks';
import { readClaims } from './token-claims';

const asymmetric = ['RS256', 'ES256'] as const;

/**
 * Verifies the bearer token with Hono's own jwt (HS256, JWT_SECRET) or jwk (RS256/ES256 against
 * JWKS_URL, keys cached by lib/jwks.ts) middleware, chosen by the token's declared algorithm;
 * anything else, `none` included, is refused before any verification is attempted. JWT_ISSUER and
 * JWT_AUDIENCE, when set, must match `iss` and `aud`. The times (`exp`, `nbf`, `iat`) are checked by
 * `readClaims`, with a leeway Hono's own check does not have.
 */
export const authenticate: MiddlewareHandler<AppEnv> = createMiddleware<AppEnv>(async (c, next) => {
  const config = c.get('config');
  const authorization = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!match?.[1]) throw unauthorized('missing bearer token');
  let header: ReturnType<typeof decodeHeader>;
  try {
    header = decodeHeader(match[1]);
  } catch {
    throw unauthorized('malformed token');
  }
  const alg: string = header.alg;
  const verification = {
    exp: false,
    nbf: false,
    iat: false,
    ...(config.JWT_ISSUER ? { iss: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { aud: config.JWT_AUDIENCE } : {}),
  };
  let verifier: MiddlewareHandler;
  if (alg === 'HS256' && config.JWT_SECRET) {
    verifier = jwt({ secret: config.JWT_SECRET, alg: 'HS256', verification });
  } else if ((asymmetric as readonly string[]).includes(alg) && config.JWKS_URL) {
    const keys = await jwksKeys(config.JWKS_URL, header.kid);
    verifier = jwk({ keys, alg: [...asymmetric], verification });
  } else {
    throw unauthorized(`token algorithm ${JSON.stringify(String(alg).slice(0, 20))} is not accepted`);
  }
  let verified = false;
  try {
    await verifier(c, async () => {
      verified = true;
    });
  } catch {
    throw unauthorized('invalid or expired token');
  }
  if (!verified) throw unauthorized('invalid or expired token');
  const claims = readClaims(c.get('jwtPayload'), Math.floor(Date.now() / 1000));
  if (!claims.ok) throw unauthorized(claims.reason);
  c.set('identity', claims.identity);
  await next();
});

/** Allows only the given roles; the others get a 403 (they can see the account, not act in it). */
export const requireRole = (...roles: Role[]): MiddlewareHandler<AppEnv> =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (!roles.includes(c.get('identity').role)) {
      throw forbidden(`this needs the role ${roles.join(' or ')}`);
    }
    await next();
  });
