import { isOneOf, ROLES, type Role } from '../../../worker/contract/statuses';
import { CLOCK_LEEWAY_SECONDS, displayName } from '../../../worker/contract/token-claims';
import { Store } from './store';

// The signed-in user: a bearer token kept in localStorage, and the claims read from it (the
// server verifies the token; the site only reads who it says it is, to label the screens).

export type { Role };

export interface Session {
  token: string;
  userId: string;
  accountId: string;
  role: Role;
  name: string;
  /** Seconds since the epoch. */
  exp: number;
}

const KEY = 'switchboard.token';

export type TokenCheck = { ok: true; session: Session } | { ok: false; error: string };

export function readToken(raw: string, now = Date.now()): TokenCheck {
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1])
    return { ok: false, error: 'That is not a token: expected three dot-separated parts.' };
  let claims: Record<string, unknown>;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
    claims = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return { ok: false, error: 'That token cannot be read.' };
  }
  const { sub, acct, role, name, exp } = claims;
  if (typeof sub !== 'string' || typeof acct !== 'string' || typeof exp !== 'number') {
    return { ok: false, error: 'That token lacks the sub, acct or exp claim.' };
  }
  if (!isOneOf(ROLES, role)) {
    return { ok: false, error: 'That token has no engineer, admin or viewer role.' };
  }
  // The server's rule: a minute of leeway for clock skew, and any name, shown cleaned.
  if ((exp + CLOCK_LEEWAY_SECONDS) * 1000 <= now) return { ok: false, error: 'That token has expired.' };
  return {
    ok: true,
    session: { token, userId: sub, accountId: acct, role, name: displayName(name, sub), exp },
  };
}

function load(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const check = readToken(raw);
    return check.ok ? check.session : null;
  } catch {
    return null;
  }
}

export const session = new Store<Session | null>(typeof localStorage === 'undefined' ? null : load());
/** Why the user was signed out, shown on the sign-in screen. */
export const signOutReason = new Store<string | null>(null);

export function signIn(s: Session) {
  localStorage.setItem(KEY, s.token);
  signOutReason.set(null);
  session.set(s);
}

export function signOut(reason: string | null = null) {
  localStorage.removeItem(KEY);
  signOutReason.set(reason);
  session.set(null);
}

export const canAct = (s: Session | null) => s?.role === 'engineer' || s?.role === 'admin';
