import { z } from 'zod';
import { ROLES } from '../contract/statuses';
import { CLOCK_LEEWAY_SECONDS, displayName, MAX_NAME_CHARS } from '../contract/token-claims';
import { canonicalUuid } from './canonical-uuid';
import type { Identity } from './identity';

// The claims of a verified token, read the way DESIGN.md "Limits and hardening" asks: the clock of
// the identity provider and the edge may differ, so `exp`, `nbf` and `iat` get a leeway; the
// display name is tidied (contract/token-claims.ts, which the site shares), never a reason to
// refuse the token.

export { CLOCK_LEEWAY_SECONDS, displayName, MAX_NAME_CHARS };

const uuidClaim = z.string().transform((v, ctx) => {
  const id = canonicalUuid(v);
  if (!id) {
    ctx.addIssue({ code: 'custom', message: 'must be a UUID' });
    return z.NEVER;
  }
  return id;
});

const time = z.number().refine(Number.isFinite, 'must be a finite number of seconds');

const claimsSchema = z.object({
  sub: uuidClaim,
  acct: uuidClaim,
  role: z.enum(ROLES),
  // Optional: zod 4 refuses a missing key even for z.unknown(), and a token may carry no name.
  name: z.unknown().optional(),
  exp: time,
  nbf: time.optional(),
  iat: time.optional(),
});

export type ClaimsResult = { ok: true; identity: Identity } | { ok: false; reason: string };

/**
 * The caller's identity from a token whose signature has been verified (`payload`), at `now`
 * (Unix seconds). Refused: a claim missing or malformed, `exp` more than the leeway in the past,
 * `nbf` or `iat` more than the leeway in the future.
 */
export function readClaims(payload: unknown, now: number): ClaimsResult {
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) {
    const fields = [...new Set(claims.error.issues.map((i) => i.path.join('.') || 'payload'))];
    return { ok: false, reason: `token claims invalid: ${fields.join(', ')}` };
  }
  const { sub, acct, role, name, exp, nbf, iat } = claims.data;
  if (exp + CLOCK_LEEWAY_SECONDS <= now) return { ok: false, reason: 'token expired' };
  if (nbf !== undefined && nbf - CLOCK_LEEWAY_SECONDS > now)
    return { ok: false, reason: 'token not valid yet' };
  if (iat !== undefined && iat - CLOCK_LEEWAY_SECONDS > now) {
    return { ok: false, reason: 'token issued in the future' };
  }
  return { ok: true, identity: { userId: sub, accountId: acct, role, name: displayName(name, sub) } };
}
