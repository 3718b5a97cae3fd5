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

/**
 * Creates a handoff and its outbox row in ONE statement (one round trip, atomic without an
 * explicit transaction): the session must be the caller's; the card is built by the one card
 * builder from the inserted row. Returns undefined when the session is not in the caller's
 * account. A reused Idempotency-Key surfaces as the unique violation (23505) of the insert.
 */
export async function createHandoff(
  db: Db,
  who: Identity,
  sessionId: string,
  body: NewHandoff,
  idempotencyKey: string | undefined,
): Promise<{ card: EscalationCard; event: HubEvent } | undefined> {
  const result = await db.execute<{ outbox_id: string; card: EscalationCard }>(sql`
    with s0 as (
      select id from sessions where id = ${sessionId}::uuid and account_id = ${who.accountId}::uuid
    ), inserted as (
      insert into handoffs (account_id, session_id, created_by, intent, reason, severity, to_user_id, idempotency_key)
      select ${who.accountId}::uuid, s0.id, ${who.userId}::uuid, ${body.intent}::handoff_intent, ${body.reason},
             ${body.severity}::handoff_severity, ${body.to_user_id ?? null}::uuid, ${idempotencyKey ?? null}
      from s0
      returning *
    ), card as (${cardsFrom(sql.raw('inserted'))}), o as (
      insert into outbox (account_id, topic, event_type, payload)
      select ${who.accountId}::uuid, ${ESCALATIONS_TOPIC}, 'escalation.created', jsonb_build_object('card', card.card, 'version', 1)
      from card
      returning id
    )
    select o.id as outbox_id, card.card as card from o, card`);
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    card: row.card,
    event: {
      key: row.outbox_id,
      topic: ESCALATIONS_TOPIC,
      type: 'escalation.created',
      data: { card: row.card, version: 1 },
    },
  };
}
