import { asc, eq } from 'drizzle-orm';
import type { Role } from '../contract/statuses';
import type { DbOrTx } from '../db/client';
import { users } from '../db/schema';

// The account's users as the identity provider last described them (provisioned from tokens on
// first use, see lib/provision.ts): whom a transfer or an escalation level can name.

export interface AccountUser {
  id: string;
  name: string;
  role: Role;
  last_seen_at: string;
}

export async function listUsers(db: DbOrTx, accountId: string): Promise<AccountUser[]> {
  const rows = await db
    .select()
    .from(users)
    .where(eq(users.accountId, accountId))
    .orderBy(asc(users.name), asc(users.id))
    .limit(1_000);
  return rows.map((u) => ({
    id: u.id,
    name: u.name,
    role: u.role,
    last_seen_at: u.lastSeenAt.toISOString(),
  }));
}
