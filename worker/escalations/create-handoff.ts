import { type SQL, sql } from 'drizzle-orm';
import type { EscalationCard } from '../contract/events';
import { ACTING_ROLES } from '../contract/statuses';
import type { Db } from '../db/client';
import { type At, nowSql } from '../db/clock';
import type { HubEvent } from '../hub/hub-module';
import type { Identity } from '../lib/app-env';
import { cardsFrom } from './cards';
import { currentPolicySql } from './policy-store';
import { ESCALATIONS_TOPIC } from './topic';

export interface NewHandoff {
  intent: EscalationCard['intent'];
  reason: string;
  severity: EscalationCard['severity'];
  to_user_id?: string | undefined;
}

export type CreateHandoffResult =
  | { kind: 'created'; card: EscalationCard; event: HubEvent }
  /** The session is not in the caller's account. */
  | { kind: 'no_session' }
  /** `to_user_id` is not an engineer or admin of the account. */
  | { kind: 'bad_target' }
  /** The caller created `MAX_HANDOFFS_PER_MINUTE` handoffs in the last minute; nothing was written. */
  | { kind: 'rate_limited'; retryAfterSeconds: number };

/** `expr` seconds (read from the severity's policy section `sp.s`) after `now`, as a timestamp. */
const after = (now: SQL, expr: string) => sql`${now} + make_interval(secs => (${sql.raw(expr)})::float8)`;

/**
 * Creates a handoff in ONE statement (one round trip, atomic without an explicit transaction):
 * - the session must be the caller's and a target the account's;
 * - the caller must be under `maxPerMinute` handoffs in the last minute (the `handoff_rate` row,
 *   updated under its lock, so two concurrent creates cannot both take the last place; a refused
 *   request takes no place);
 * - the card takes the account's current policy version, its clocks and its first re-escalation
 *   time from it, and is built by the one card builder from the inserted row;
 * - the timeline's `created` row and the outbox row are written by the same statement.
 * A reused Idempotency-Key surfaces as the unique violation (23505) of the insert, which undoes
 * the whole statement, the rate row included. `at` is the demo seed's clock (db/clock.ts): every
 * time the statement records, the rate window included, is taken from it instead of `now()`.
 */
export async function createHandoff(
  db: Db,
  who: Identity,
  sessionId: string,
  body: NewHandoff,
  idempotencyKey: string | undefined,
  maxPerMinute: number,
  opts: { at?: At } = {},
): Promise<CreateHandoffResult> {
  const to = body.to_user_id ?? null;
  const now = nowSql(opts.at);
  const window = sql`${now} - interval '1 minute'`;
  const result = await db.execute<{
    session_found: boolean;
    target_found: boolean;
    admitted: number;
    retry_after_s: number | null;
    outbox_id: string | null;
    card: EscalationCard | null;
  }>(sql`
    with s0 as (
      select id from sessions where id = ${sessionId}::uuid and account_id = ${who.accountId}::uuid
    ), target as (
      select id from users
      where account_id = ${who.accountId}::uuid and id = ${to}::uuid and role in ${[...ACTING_ROLES]}
    ), gate as (
      insert into handoff_rate as r (account_id, user_id, recent)
      select ${who.accountId}::uuid, ${who.userId}::uuid, array[${now}] from s0
      where ${to}::uuid is null or exists (select 1 from target)
      on conflict (account_id, user_id) do update
        set recent = array(select t from unnest(r.recent) t where t > ${window}) || ${now}
        where (select count(*) from unnest(r.recent) t where t > ${window}) < ${maxPerMinute}::int
      returning 1
    ), p as ${currentPolicySql(who.accountId)}, sp as (
      select p.version, (p.policy->>'warn_at')::float8 as warn_at,
             p.policy->'severities'->${body.severity}::text as s
      from p
    ), inserted as (
      insert into handoffs (account_id, session_id, created_by, intent, reason, severity, to_user_id,
                            idempotency_key, policy_version, pickup_warn_at, pickup_due_at,
                            resolve_warn_at, resolve_due_at, notify, next_level_at, created_at, updated_at)
      select ${who.accountId}::uuid, s0.id, ${who.userId}::uuid, ${body.intent}::handoff_intent, ${body.reason},
             ${body.severity}::handoff_severity, ${to}::uuid, ${idempotencyKey ?? null}, sp.version,
             ${after(now, "(sp.s->>'pickup_seconds')::float8 * sp.warn_at")},
             ${after(now, "sp.s->>'pickup_seconds'")},
             ${after(now, "(sp.s->>'resolve_seconds')::float8 * sp.warn_at")},
             ${after(now, "sp.s->>'resolve_seconds'")},
             case when ${body.intent} = 'transfer' then jsonb_build_array(${to}::text) else '"everyone"'::jsonb end,
             ${after(now, "sp.s->'levels'->0->>'after_seconds'")}, ${now}, ${now}
      from s0, sp, gate
      returning *
    ), card as (${cardsFrom(sql.raw('inserted'))}), timeline as (
      insert into handoff_timeline (handoff_id, version, account_id, type, at, actor_id, actor_name, details)
      select id, 1, account_id, 'created', created_at, created_by, ${who.name},
             jsonb_build_object('intent', intent, 'severity', severity, 'reason', reason,
                                'to_user_id', to_user_id, 'policy_version', policy_version)
      from inserted
    ), o as (
      insert into outbox (account_id, topic, event_type, payload, created_at)
      select ${who.accountId}::uuid, ${ESCALATIONS_TOPIC}, 'escalation.created', jsonb_build_object('card', card.card, 'version', 1), ${now}
      from card
      returning id
    )
    select exists (select 1 from s0) as session_found,
           ${to}::uuid is null or exists (select 1 from target) as target_found,
           (select count(*) from gate)::int as admitted,
           (select extract(epoch from min(t) + interval '1 minute' - ${now})::float8
              from handoff_rate r2, unnest(r2.recent) t
             where r2.account_id = ${who.accountId}::uuid and r2.user_id = ${who.userId}::uuid and t > ${window}
           ) as retry_after_s,
           (select id from o) as outbox_id,
           (select card from card) as card`);
  const row = result.rows[0];
  if (!row?.session_found) return { kind: 'no_session' };
  if (!row.target_found) return { kind: 'bad_target' };
  if (row.admitted === 0) {
    return { kind: 'rate_limited', retryAfterSeconds: Math.max(1, Math.ceil(row.retry_after_s ?? 60)) };
  }
  if (!row.card || !row.outbox_id) throw new Error('handoff insert returned no card');
  return {
    kind: 'created',
    card: row.card,
    event: {
      key: row.outbox_id,
      topic: ESCALATIONS_TOPIC,
      type: 'escalation.created',
      data: { card: row.card, version: 1 },
    },
  };
}
