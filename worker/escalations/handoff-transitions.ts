import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { EscalationCard, EscalationEvent } from '../contract/events';
import {
  ACTIVE_HANDOFF_STATUSES,
  type HandoffStatus,
  RUNNING_SLA_STATES,
  type TimelineType,
} from '../contract/statuses';
import { type Db, transaction } from '../db/client';
import { type At, nowSql } from '../db/clock';
import { handoffs } from '../db/schema';
import type { HubEvent } from '../hub/hub-module';
import type { Identity } from '../lib/app-env';
import { loadCard } from './cards';
import { recordEvents } from './outbox';
import { policyOfHandoffSql } from './policy-store';
import { recordTimeline } from './timeline-store';

// The state changes of a handoff after its creation: pick up, release, resolve, cancel. Each is
// one conditional UPDATE, its timeline row and its outbox row, in one transaction.

export type HandoffTransition = 'pickup' | 'release' | 'resolve' | 'cancel';

/** A running clock stops as `met`; a breached one stays breached. */
const stopClock = (column: typeof handoffs.pickupSla | typeof handoffs.resolveSla) =>
  sql`(case when ${inArray(column, [...RUNNING_SLA_STATES])} then 'met' else ${column} end)::sla_state`;

/** When the first level is due if the sequence starts `now`: null when the policy has no level. */
const firstLevelFrom = (now: SQL) =>
  sql`${now} + make_interval(secs => (${policyOfHandoffSql('handoffs')}->'severities'->(handoffs.severity::text)->'levels'->0->>'after_seconds')::float8)`;

interface Transition {
  from: readonly HandoffStatus[];
  timeline: TimelineType;
  /** The columns it sets; `now` is when it happens (the database's `now()` in real use). */
  set: (who: Identity, now: SQL) => PgUpdateSetSource<typeof handoffs>;
  /** Who may make it, besides the role the route requires. */
  allowed?: (who: Identity) => SQL | undefined;
}

const transitions: Record<HandoffTransition, Transition> = {
  pickup: {
    from: ['open'],
    timeline: 'picked_up',
    // The pick-up clock runs until the first pick-up; re-escalation stops.
    set: (who, now) => ({
      status: 'picked_up',
      pickedUpBy: who.userId,
      pickedUpAt: now,
      firstPickedUpAt: sql`coalesce(${handoffs.firstPickedUpAt}, ${now})`,
      pickupSla: stopClock(handoffs.pickupSla),
      nextLevelAt: null,
    }),
  },
  release: {
    from: ['picked_up'],
    timeline: 'released',
    // Back in the queue, asking everyone again; re-escalation restarts at level 1. The pick-up
    // clock is not restarted: it stopped at the first pick-up.
    set: (_who, now) => ({
      status: 'open',
      pickedUpBy: null,
      pickedUpAt: null,
      level: 0,
      notify: sql`'"everyone"'::jsonb`,
      reescalations: 0,
      nextLevelAt: firstLevelFrom(now),
    }),
    allowed: (who) => (who.role === 'admin' ? undefined : eq(handoffs.pickedUpBy, who.userId)),
  },
  resolve: {
    from: ACTIVE_HANDOFF_STATUSES,
    timeline: 'resolved',
    set: (who, now) => ({
      status: 'resolved',
      closedBy: who.userId,
      closedAt: now,
      pickupSla: stopClock(handoffs.pickupSla),
      resolveSla: stopClock(handoffs.resolveSla),
      nextLevelAt: null,
    }),
  },
  cancel: {
    from: ACTIVE_HANDOFF_STATUSES,
    timeline: 'cancelled',
    set: (who, now) => ({
      status: 'cancelled',
      closedBy: who.userId,
      closedAt: now,
      pickupSla: stopClock(handoffs.pickupSla),
      resolveSla: stopClock(handoffs.resolveSla),
      nextLevelAt: null,
    }),
  },
};

export type TransitionResult =
  /** Committed with its timeline and outbox rows; `event` is still to be published. */
  | { ok: true; card: EscalationCard; event: HubEvent }
  | { ok: false; reason: 'not_found' }
  /** The card's state did not allow it; `current` is the card as it is. */
  | { ok: false; reason: 'refused'; current: EscalationCard }
  /** The state allowed it, the caller may not (a release by someone other than the holder). */
  | { ok: false; reason: 'forbidden'; current: EscalationCard };

/** The event a committed transition publishes. */
function eventOf(
  name: HandoffTransition,
  card: EscalationCard,
  who: Identity,
  reason: string | null,
): EscalationEvent {
  const data = { card, version: card.version };
  switch (name) {
    case 'pickup':
      return { type: 'escalation.picked_up', data };
    case 'release':
      return {
        type: 'escalation.released',
        data: { ...data, by: { id: who.userId, name: who.name }, reason },
      };
    case 'resolve':
      return { type: 'escalation.resolved', data };
    case 'cancel':
      return { type: 'escalation.cancelled', data };
  }
}

/**
 * A state change in one conditional UPDATE, with its timeline and outbox rows in the same
 * transaction: of two concurrent pick-ups exactly one matches `status = 'open'`; the other
 * learns who has it. `at` is the demo seed's clock (db/clock.ts), absent in real use.
 */
export async function transitionHandoff(
  db: Db,
  who: Identity,
  name: HandoffTransition,
  id: string,
  opts: { reason?: string | undefined; at?: At } = {},
): Promise<TransitionResult> {
  const t = transitions[name];
  const reason = opts.reason ?? null;
  const now = nowSql(opts.at);
  return transaction(db, async (tx): Promise<TransitionResult> => {
    const [updated] = await tx
      .update(handoffs)
      .set({ ...t.set(who, now), version: sql`${handoffs.version} + 1`, updatedAt: now })
      .where(
        and(
          eq(handoffs.id, id),
          eq(handoffs.accountId, who.accountId),
          inArray(handoffs.status, [...t.from]),
          t.allowed?.(who),
        ),
      )
      .returning({ id: handoffs.id });
    const card = await loadCard(tx, who.accountId, id);
    if (!card) return { ok: false, reason: 'not_found' };
    if (!updated) {
      const stateAllows = (t.from as readonly string[]).includes(card.status);
      return { ok: false, reason: stateAllows ? 'forbidden' : 'refused', current: card };
    }
    await recordTimeline(tx, [
      {
        handoffId: id,
        accountId: who.accountId,
        version: card.version,
        type: t.timeline,
        actor: who,
        at: opts.at,
        ...(name === 'release' ? { details: { reason } } : {}),
      },
    ]);
    const [event] = await recordEvents(tx, who.accountId, [eventOf(name, card, who, reason)], opts.at);
    if (!event) throw new Error('outbox insert returned no event');
    return { ok: true, card, event };
  });
}
