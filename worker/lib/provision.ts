import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import type { Identity } from './app-env';

// Accounts and users come from token claims: the identity provider is their source of truth.
// An isolate remembers whom it has already written, so a busy user costs one upsert, not one per request.
const seen = new Set<string>();
const MAX_SEEN = 10_000;

export async function provision(db: Db, who: Identity): Promise<void> {
  const key = `${who.accountId}|${who.userId}|${who.role}|${who.name}`;
  if (seen.has(key)) return;
  // One statement: the account insert in the CTE is visible to the user row's foreign key,
  // which Postgres checks at the end of the statement.
  await db.execute(sql`
    with account as (insert into accounts (id) values (${who.accountId}) on conflict do nothing)
    insert into users (account_id, id, name, role) values (${who.accountId}, ${who.userId}, ${who.name}, ${who.role})
    on conflict (account_id, id) do update set name = excluded.name, role = excluded.role, last_seen_at = now()`);
  if (seen.size >= MAX_SEEN) seen.clear();
  seen.add(key);
}
