import { sql } from 'drizzle-orm';
import type { EscalationCard, EscalationEvent, EscalationEventType, Notify } from '../contract/events';
import {
  type HandoffStatus,
  isOneOf,
  RUNNING_SLA_STATES,
  type SlaClock,
  type SlaState,
  type TimelineType,
} from '../contract/statuses';
import { type Db, transaction } from '../db/client';
import { type At, nowSql } from '../db/clock';
import type { HubEvent } from '../hub/hub-module';
import { cardsFrom, isoText } from './cards';
import type { TimerPayload } from './clock-timers';
import { nextLevel, type SeverityPolicy } from './policy';
import { policyOfHandoffSql } from './policy-store';
import { ESCALATIONS_TOPIC } from './topic';

// The Postgres side of the hub's clock timers: what a due timer changes on its card. A batch of
// due timers is one transaction: each card's conditional change, its timeline row and its
// outbox row commit together or not at all.

type ClockRow = {
  id: string;
  status: HandoffStatus;
  pickup_sla: SlaState;
  resolve_sla: SlaState;
  level: number;
  notify: Notify;
  reescalations: number;
  next_level_at: string | null;
  severity_policy: SeverityPolicy;
};

interface Change {
  id: string;
  pickup: SlaState;
  resolve: SlaState;
  level: number;
  notify: Notify;
  reescalations: number;
  nextLevelAt: string | null;
  /** What happened, for the event, its extra fields and the timeline. */
  what:
    | { kind: 'warning' | 'breach'; clock: SlaClock }
    | { kind: 'reescalated'; level: number; notify: Notify };
}

/**
 * What one due timer does to its card as it is now, or null when the card no longer wants it: a
 * clock already stopped (picked up, resolved, cancelled) or past that point, a re-escalation the
 * card no longer expects at that time (picked up, released since, or the sequence ended).
 */
export function changeOf(row: ClockRow, timer: TimerPayload): Change | null {
  const base = {
    id: row.id,
    pickup: row.pickup_sla,
    resolve: row.resolve_sla,
    level: row.level,
    notify: row.notify,
    reescalations: row.reescalations,
    nextLevelAt: row.next_level_at,
  };
  switch (timer.timer) {
    case 'pickup_warning':
    case 'resolve_warning': {
      const clock: SlaClock = timer.timer === 'pickup_warning' ? 'pickup' : 'resolve';
      if (base[clock] !== 'ok') return null;
      return { ...base, [clock]: 'warning', what: { kind: 'warning', clock } };
    }
    case 'pickup_breach':
    case 'resolve_breach': {
      const clock: SlaClock = timer.timer === 'pickup_breach' ? 'pickup' : 'resolve';
      if (!isOneOf(RUNNING_SLA_STATES, base[clock])) return null;
      return { ...base, [clock]: 'breached', what: { kind: 'breach', clock } };
    }
    case 'reescalate': {
      if (row.status !== 'open' || row.next_level_at === null || row.next_level_at !== timer.due) return null;
      const next = nextLevel(row.severity_policy, row.reescalations);
      if (!next) return null;
      const following =
        next.followedAfterSeconds === null
          ? null
          : new Date(Date.parse(row.next_level_at) + next.followedAfterSeconds * 1000).toISOString();
      return {
        ...base,
        level: next.level,
        notify: next.notify,
        reescalations: row.reescalations + 1,
        nextLevelAt: following,
        what: { kind: 'reescalated', level: next.level, notify: next.notify },
      };
    }
  }
}

function eventOf(change: Change, card: EscalationCard): EscalationEvent {
  const data = { card, version: card.version };
  const w = change.what;
  if (w.kind === 'reescalated') {
    return { type: 'escalation.reescalated', data: { ...data, level: w.level, notify: w.notify } };
  }
  return w.kind === 'warning'
    ? { type: 'escalation.sla_warning', data: { ...data, clock: w.clock } }
    : { type: 'escalation.sla_breached', data: { ...data, clock: w.clock } };
}

/** What a change records besides the card: its timeline row and its event's extra fields. */
function recordsOf(change: Change): {
  timeline: TimelineType;
  details: Record<string, unknown>;
  event: EscalationEventType;
  extras: Record<string, unknown>;
} {
  const w = change.what;
  if (w.kind === 'reescalated') {
    const fired = { level: w.level, notify: w.notify };
    return { timeline: 'reescalated', details: fired, event: 'escalation.reescalated', extras: fired };
  }
  const clock = { clock: w.clock };
  return w.kind === 'warning'
    ? { timeline: 'sla_warning', details: clock, event: 'escalation.sla_warning', extras: clock }
    : { timeline: 'sla_breached', details: clock, event: 'escalation.sla_breached', extras: clock };
}

/**
 * Applies due timers, at most one per card, in one transaction, and returns the committed
 * events still to be published (none for timers whose card no longer wants them). The rows are
 * locked first, so a pick-up or resolve racing a timer is either before it (no event) or after.
 * `at` is the demo seed's clock (db/clock.ts); the hub's alarm passes none.
 */
export async function fireTimers(
  db: Db,
  accountId: string,
  timers: readonly TimerPayload[],
  at?: At,
): Promise<HubEvent[]> {
  const now = nowSql(at);
  const ids = timers.map((t) => t.handoffId);
  if (new Set(ids).size !== ids.length) throw new Error('fireTimers: one timer per card and batch');
  if (ids.length === 0) return [];
  return transaction(db, async (tx) => {
    const rows = await tx.execute<ClockRow>(sql`
      select h.id, h.status, h.pickup_sla, h.resolve_sla, h.level, h.notify, h.reescalations,
             ${sql.raw(isoText('h.next_level_at'))} as next_level_at,
             ${policyOfHandoffSql('h')}->'severities'->(h.severity::text) as severity_policy
      from handoffs h
      where h.account_id = ${accountId}::uuid and h.id in (${sql.join(
        ids.map((id) => sql`${id}::uuid`),
        sql`, `,
      )})
      for update of h`);
    const byId = new Map(rows.rows.map((r) => [r.id, r]));
    const changes: Change[] = [];
    for (const t of timers) {
      const row = byId.get(t.handoffId);
      const change = row ? changeOf(row, t) : null;
      if (change) changes.push(change);
    }
    if (changes.length === 0) return [];
    // One statement for the whole batch, like the create statement: the conditional change of
    // every card, its card built by the one card builder, its timeline row and its outbox row.
    const planned = changes.map((change) => ({
      change,
      outboxId: crypto.randomUUID(),
      ...recordsOf(change),
    }));
    const values = planned.map(
      ({ change: c, outboxId, timeline, details, event, extras }) =>
        sql`(${c.id}, ${c.pickup}, ${c.resolve}, ${c.level}, ${JSON.stringify(c.notify)}, ${c.reescalations},
             ${c.nextLevelAt}, ${timeline}, ${JSON.stringify(details)}, ${event}, ${JSON.stringify(extras)}, ${outboxId})`,
    );
    const result = await tx.execute<{ card: EscalationCard }>(sql`
      with v (id, pickup, resolve, level, notify, reescalations, next_level_at, timeline_type, details,
              event_type, extras, outbox_id) as (values ${sql.join(values, sql`, `)}),
      upd as (
        update handoffs h set
          pickup_sla = v.pickup::sla_state, resolve_sla = v.resolve::sla_state, level = v.level::int,
          notify = v.notify::jsonb, reescalations = v.reescalations::int,
          next_level_at = v.next_level_at::timestamptz, version = h.version + 1, updated_at = ${now}
        from v where h.id = v.id::uuid and h.account_id = ${accountId}::uuid
        returning h.*
      ), card as (${cardsFrom(sql.raw('upd'))}),
      timeline as (
        insert into handoff_timeline (handoff_id, version, account_id, type, at, details)
        select v.id::uuid, (card.card->>'version')::int, ${accountId}::uuid, v.timeline_type::timeline_type, ${now}, v.details::jsonb
        from card join v on v.id = card.card->>'id'
      ), o as (
        insert into outbox (id, account_id, topic, event_type, payload, created_at)
        select v.outbox_id::uuid, ${accountId}::uuid, ${ESCALATIONS_TOPIC}, v.event_type,
               jsonb_build_object('card', card.card, 'version', (card.card->>'version')::int) || v.extras::jsonb, ${now}
        from card join v on v.id = card.card->>'id'
      )
      select card.card as card from card`);
    const byCard = new Map(planned.map((p) => [p.change.id, p]));
    return result.rows.flatMap(({ card }) => {
      const p = byCard.get(card.id);
      if (!p) return [];
      const event = eventOf(p.change, card);
      return [{ key: p.outboxId, topic: ESCALATIONS_TOPIC, type: event.type, data: event.data }];
    });
  });
}
