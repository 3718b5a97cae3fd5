import { sql } from 'drizzle-orm';
import type { EscalationCard } from '../contract/events';
import type { Db } from '../db/client';
import type { HubEvent } from '../hub/account-hub';
import type { Identity } from '../lib/app-env';
import { ESCALATIONS_TOPIC } from './outbox';

export interface NewHandoff {
  intent: EscalationCard['intent'];
  reason: string;
  severity: EscalationCard['severity'];
  to_user_id?: string | undefined;
}

// Postgres' rendering of a timestamptz that matches Date.prototype.toISOString.
const iso = (column: string) =>
  sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/**
 * Creates a handoff and its outbox row in ONE statement (so one round trip, atomic without an
 * explicit transaction): the session must be the caller's, the card is assembled from what this
 * request already knows plus the session's fields and the database's clock. Returns undefined
 * when the session is not in the caller's account. A reused Idempotency-Key surfaces as the
 * unique violation (23505) of the handoff insert.
 */
export async function createHandoff(
  db: Db,
  who: Identity,
  sessionId: string,
  body: NewHandoff,
  idempotencyKey: string | undefined,
): Promise<{ card: EscalationCard; event: HubEvent } | undefined> {
  const id = crypto.randomUUID();
  // Everything the card holds that this request knows; the session and times come from SQL.
  const known = {
    id,
    session_id: sessionId,
    intent: body.intent,
    reason: body.reason,
    severity: body.severity,
    status: 'open',
    to_user_id: body.to_user_id ?? null,
    created_by: { id: who.userId, name: who.name },
    picked_up_by: null,
    picked_up_at: null,
    closed_by: null,
    closed_at: null,
    ai_status: 'pending',
    ai_assessment: null,
    ai_error: null,
    version: 1,
  };
  const result = await db.execute<{ outbox_id: string; card: EscalationCard }>(sql`
    with s as (
      select title, problem_summary, customer from sessions
      where id = ${sessionId}::uuid and account_id = ${who.accountId}::uuid
    ), h as (
      insert into handoffs (id, account_id, session_id, created_by, intent, reason, severity, to_user_id, idempotency_key)
      select ${id}::uuid, ${who.accountId}::uuid, ${sessionId}::uuid, ${who.userId}::uuid,
             ${body.intent}::handoff_intent, ${body.reason}, ${body.severity}::handoff_severity,
             ${body.to_user_id ?? null}::uuid, ${idempotencyKey ?? null}
      from s
      returning created_at, updated_at
    ), card as (
      select ${JSON.stringify(known)}::jsonb || jsonb_build_object(
        'session', jsonb_build_object('title', s.title, 'problem_summary', s.problem_summary, 'customer', s.customer),
        'created_at', ${iso('h.created_at')},
        'updated_at', ${iso('h.updated_at')}
      ) as card
      from s, h
    ), o as (
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
