import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { jwk } from 'hono/jwk';
import { jwt } from 'hono/jwt';
import { decodeHeader } from 'hono/utils/jwt/jwt';
import { z } from 'zod';
import { ROLES } from '../contract/statuses';
import type { AppEnv, Identity, Role } from './app-env';
import { canonicalUuid } from './canonical-uuid';
import { forbidden, unauthorized } from './errors';
import { jwksKeys } from './jwks';

const uuidClaim = z.string().transform((v, ctx) => {
  const id = canonicalUuid(v);
  if (!id) {
    ctx.addIssue({ code: 'custom', message: 'must be a UUID' });
    return z.NEVER;
  }
  return id;
});

const claimsSchema = z.object({
  sub: uuidClaim,
  acct: uuidClaim,
  role: z.enum(ROLES),
  name: z.string().min(1).max(200),
  exp: z.number(),
});

const asymmetric = ['RS256', 'ES256'] as const;

/**
 * Verifies the bearer token with Hono's own jwt (HS256, JWT_SECRET) or jwk (RS256/ES256 against
 * JWKS_URL, keys cached by lib/jwks.ts) middleware, chosen by the token's declared algorithm;
 * anything else, `none` included, is refused before any verification is attempted. JWT_ISSUER and
 * JWT_AUDIENCE, when set, must match `iss` and `aud`.
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
    throw unauthorized(`token algorithm ${JSON.stringify(alg)} is not accepted`);
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
  const claims = claimsSchema.safeParse(c.get('jwtPayload'));
  if (!claims.success) {
    throw unauthorized(
      `token claims invalid: ${claims.error.issues.map((i) => i.path.join('.')).join(', ')}`,
    );
  }
  const identity: Identity = {
    userId: claims.data.sub,
    accountId: claims.data.acct,
    role: claims.data.role,
    name: claims.data.name,
  };
  c.set('identity', identity);
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
