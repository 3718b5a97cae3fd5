import { eq } from 'drizzle-orm';
import type { Role } from '../contract/statuses';
import type { DbOrTx } from '../db/client';
import { users } from '../db/schema';
import { keysetPage, type PageWindow } from '../lib/pagination';

// The account's users as the identity provider last described them (provisioned from tokens on
// first use, see lib/provision.ts): whom a transfer or an escalation level can name.

export interface AccountUser {
  id: string;
  name: string;
  role: Role;
  last_seen_at: string;
}

export type UserRow = typeof users.$inferSelect;

/** One page of the account's users, newest first (by first use), like every list. */
export function listUsers(db: DbOrTx, accountId: string, window: PageWindow): Promise<UserRow[]> {
  return keysetPage(db.select().from(users).$dynamic(), users, eq(users.accountId, accountId), window);
}

export const userJson = (u: UserRow): AccountUser => ({
  id: u.id,
  name: u.name,
  role: u.role,
  last_seen_at: u.lastSeenAt.toISOString(),
});
