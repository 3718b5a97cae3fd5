import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Person } from '../contract/events';
import { ACTING_ROLES } from '../contract/statuses';
import { type Db, type DbOrTx, sqlState } from '../db/client';
import { escalationPolicies, users } from '../db/schema';
import type { Identity } from '../lib/app-env';
import { DEFAULT_ESCALATION_POLICY, DEFAULT_POLICY_VERSION, type EscalationPolicy } from './policy';

// The account's escalation policy in Postgres: one row per version, the newest applies to cards
// created from then on; each card names the version it was created under.

const DEFAULT_JSON = JSON.stringify(DEFAULT_ESCALATION_POLICY);

/**
 * `(version, policy)` of the account's current policy, as a one-row subquery for the create
 * statement: the newest stored version, else the default as version 0.
 */
export const currentPolicySql = (accountId: string): SQL => sql`(
  select version, policy from (
    select version, policy from escalation_policies where account_id = ${accountId}::uuid
    union all select ${DEFAULT_POLICY_VERSION}::int, ${DEFAULT_JSON}::jsonb
  ) versions order by version desc limit 1)`;

/** The policy a handoff row (under the name `alias`) was created under, as jsonb. */
export const policyOfHandoffSql = (alias: string): SQL =>
  sql`coalesce((select ep.policy from escalation_policies ep where ep.account_id = ${sql.raw(alias)}.account_id and ep.version = ${sql.raw(alias)}.policy_version), ${DEFAULT_JSON}::jsonb)`;

export interface StoredPolicy {
  version: number;
  policy: EscalationPolicy;
  updated_at: string | null;
  updated_by: Person | null;
}

/** The account's current policy (the default, as version 0, when it has stored none). */
export async function currentPolicy(db: DbOrTx, accountId: string): Promise<StoredPolicy> {
  const [row] = await db
    .select({
      version: escalationPolicies.version,
      policy: escalationPolicies.policy,
      createdAt: escalationPolicies.createdAt,
      createdBy: escalationPolicies.createdBy,
      name: users.name,
    })
    .from(escalationPolicies)
    .leftJoin(
      users,
      and(eq(users.accountId, escalationPolicies.accountId), eq(users.id, escalationPolicies.createdBy)),
    )
    .where(eq(escalationPolicies.accountId, accountId))
    .orderBy(desc(escalationPolicies.version))
    .limit(1);
  if (!row) {
    return {
      version: DEFAULT_POLICY_VERSION,
      policy: DEFAULT_ESCALATION_POLICY,
      updated_at: null,
      updated_by: null,
    };
  }
  return {
    version: row.version,
    policy: row.policy as EscalationPolicy,
    updated_at: row.createdAt.toISOString(),
    updated_by: { id: row.createdBy, name: row.name ?? 'unknown user' },
  };
}

/** Of `ids`, those that are not an engineer or admin of the account (who could be asked). */
export async function notAskable(db: DbOrTx, accountId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const found = await db
    .select({ id: users.id })
    .from(users)
    .where(
      and(
        eq(users.accountId, accountId),
        inArray(users.id, [...ids]),
        inArray(users.role, [...ACTING_ROLES]),
      ),
    );
  const known = new Set(found.map((u) => u.id));
  return ids.filter((id) => !known.has(id));
}

/**
 * Stores a new version of the account's policy; cards created from now on use it. Two admins
 * saving at once both succeed, one version after the other (the primary key decides the order).
 */
export async function storePolicy(db: Db, who: Identity, policy: EscalationPolicy): Promise<StoredPolicy> {
  for (let attempt = 0; ; attempt++) {
    try {
      await db.execute(sql`
        insert into escalation_policies (account_id, version, policy, created_by)
        select ${who.accountId}::uuid, coalesce(max(version), 0) + 1, ${JSON.stringify(policy)}::jsonb, ${who.userId}::uuid
        from escalation_policies where account_id = ${who.accountId}::uuid`);
      return currentPolicy(db, who.accountId);
    } catch (err) {
      if (sqlState(err) !== '23505' || attempt >= 4) throw err;
    }
  }
}
