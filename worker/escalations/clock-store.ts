import { sql } from 'drizzle-orm';
import type { EscalationCard, EscalationEvent, Notify } from '../contract/events';
import type { HandoffStatus, SlaClock, SlaState } from '../contract/statuses';
import { type Db, transaction } from '../db/client';
import type { HubEvent } from '../hub/hub-module';
import { cardJson, loadCards } from './cards';
import type { TimerPayload } from './clock-timers';
import { recordEvents } from './outbox';
import { nextLevel, type SeverityPolicy } from './policy';
import { policyOfHandoffSql } from './policy-store';
import { recordTimeline, type TimelineEntry } from './timeline-store';

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

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

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
      if (base[clock] !== 'ok' && base[clock] !== 'warning') return null;
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

function timelineOf(change: Change, card: EscalationCard, accountId: string): TimelineEntry {
  const w = change.what;
  const common = { handoffId: card.id, accountId, version: card.version, actor: null };
  if (w.kind === 'reescalated') {
    return { ...common, type: 'reescalated', details: { level: w.level, notify: w.notify } };
  }
  return {
    ...common,
    type: w.kind === 'warning' ? 'sla_warning' : 'sla_breached',
    details: { clock: w.clock },
  };
}

/**
 * Applies due timers, at most one per card, in one transaction, and returns the committed
 * events still to be published (none for timers whose card no longer wants them). The rows are
 * locked first, so a pick-up or resolve racing a timer is either before it (no event) or after.
 */
export async function fireTimers(
  db: Db,
  accountId: string,
  timers: readonly TimerPayload[],
): Promise<HubEvent[]> {
  const ids = timers.map((t) => t.handoffId);
  if (new Set(ids).size !== ids.length) throw new Error('fireTimers: one timer per card and batch');
  if (ids.length === 0) return [];
  return transaction(db, async (tx) => {
    const rows = await tx.execute<ClockRow>(sql`
      select h.id, h.status, h.pickup_sla, h.resolve_sla, h.level, h.notify, h.reescalations,
             to_char(h.next_level_at at time zone 'UTC', ${sql.raw(ISO)}) as next_level_at,
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
    await tx.execute(sql`
      update handoffs h set
        pickup_sla = v.pickup::sla_state, resolve_sla = v.resolve::sla_state, level = v.level::int,
        notify = v.notify::jsonb, reescalations = v.reescalations::int,
        next_level_at = v.next_level_at::timestamptz, version = h.version + 1, updated_at = now()
      from (values ${sql.join(
        changes.map(
          (c) =>
            sql`(${c.id}, ${c.pickup}, ${c.resolve}, ${c.level}, ${JSON.stringify(c.notify)}, ${c.reescalations}, ${c.nextLevelAt})`,
        ),
        sql`, `,
      )}) as v(id, pickup, resolve, level, notify, reescalations, next_level_at)
      where h.id = v.id::uuid and h.account_id = ${accountId}::uuid`);
    const cards = new Map(
      (await loadCards(tx, accountId, { ids: changes.map((c) => c.id), limit: changes.length })).map((c) => [
        c.id,
        c,
      ]),
    );
    const done = changes.flatMap((change) => {
      const card = cards.get(change.id);
      return card ? [{ change, card: cardJson(card) }] : [];
    });
    await recordTimeline(
      tx,
      done.map((d) => timelineOf(d.change, d.card, accountId)),
    );
    return recordEvents(
      tx,
      accountId,
      done.map((d) => eventOf(d.change, d.card)),
    );
  });
}
