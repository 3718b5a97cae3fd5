import { sql } from 'drizzle-orm';
import type { EscalationCard } from '../contract/events';
import type { Db } from '../db/client';
import type { HubEvent } from '../hub/hub-module';
import type { Identity } from '../lib/app-env';
import { cardsFrom } from './cards';
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
  /** The caller created `MAX_HANDOFFS_PER_MINUTE` handoffs in the last minute; nothing was written. */
  | { kind: 'rate_limited'; retryAfterSeconds: number };

/**
 * Creates a handoff and its outbox row in ONE statement (one round trip, atomic without an
 * explicit transaction): the session must be the caller's; the caller must be under
 * `maxPerMinute` handoffs in the last minute (the `handoff_rate` row, updated under its lock, so
 * two concurrent creates cannot both take the last place); the card is built by the one card
 * builder from the inserted row. A reused Idempotency-Key surfaces as the unique violation (23505)
 * of the insert, which undoes the whole statement, the rate row included.
 */
export async function createHandoff(
  db: Db,
  who: Identity,
  sessionId: string,
  body: NewHandoff,
  idempotencyKey: string | undefined,
  maxPerMinute: number,
): Promise<CreateHandoffResult> {
  const window = sql.raw(`now() - interval '1 minute'`);
  const result = await db.execute<{
    sessions: number;
    admitted: number;
    retry_after_s: number | null;
    outbox_id: string | null;
    card: EscalationCard | null;
  }>(sql`
    with s0 as (
      select id from sessions where id = ${sessionId}::uuid and account_id = ${who.accountId}::uuid
    ), gate as (
      insert into handoff_rate as r (account_id, user_id, recent)
      select ${who.accountId}::uuid, ${who.userId}::uuid, array[now()] from s0
      on conflict (account_id, user_id) do update
        set recent = array(select t from unnest(r.recent) t where t > ${window}) || now()
        where (select count(*) from unnest(r.recent) t where t > ${window}) < ${maxPerMinute}::int
      returning 1
    ), inserted as (
      insert into handoffs (account_id, session_id, created_by, intent, reason, severity, to_user_id, idempotency_key)
      select ${who.accountId}::uuid, s0.id, ${who.userId}::uuid, ${body.intent}::handoff_intent, ${body.reason},
             ${body.severity}::handoff_severity, ${body.to_user_id ?? null}::uuid, ${idempotencyKey ?? null}
      from s0, gate
      returning *
    ), card as (${cardsFrom(sql.raw('inserted'))}), o as (
      insert into outbox (account_id, topic, event_type, payload)
      select ${who.accountId}::uuid, ${ESCALATIONS_TOPIC}, 'escalation.created', jsonb_build_object('card', card.card, 'version', 1)
      from card
      returning id
    )
    select (select count(*) from s0)::int as sessions,
           (select count(*) from gate)::int as admitted,
           (select extract(epoch from min(t) + interval '1 minute' - now())::float8
              from handoff_rate r2, unnest(r2.recent) t
             where r2.account_id = ${who.accountId}::uuid and r2.user_id = ${who.userId}::uuid and t > ${window}
           ) as retry_after_s,
           o.id as outbox_id, card.card as card
    from (select 1) one left join o on true left join card on true`);
  const row = result.rows[0];
  if (!row || row.sessions === 0) return { kind: 'no_session' };
  if (row.admitted === 0 || !row.outbox_id || !row.card) {
    return { kind: 'rate_limited', retryAfterSeconds: Math.max(1, Math.ceil(row.retry_after_s ?? 60)) };
  }
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
