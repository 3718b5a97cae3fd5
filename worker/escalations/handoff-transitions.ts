import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { EscalationCard, EscalationEventType } from '../contract/events';
import { ACTIVE_HANDOFF_STATUSES, type HandoffStatus } from '../contract/statuses';
import { type Db, transaction } from '../db/client';
import { handoffs } from '../db/schema';
import type { HubEvent } from '../hub/hub-module';
import type { Identity } from '../lib/app-env';
import { loadCard } from './cards';
import { recordChange } from './outbox';

// The state changes of a handoff after its creation: pick up, resolve, cancel.

export type HandoffTransition = 'pickup' | 'resolve' | 'cancel';

interface Transition {
  event: EscalationEventType;
  from: readonly HandoffStatus[];
  set: (who: Identity) => PgUpdateSetSource<typeof handoffs>;
}

const transitions: Record<HandoffTransition, Transition> = {
  pickup: {
    event: 'escalation.picked_up',
    from: ['open'],
    set: (who) => ({ status: 'picked_up', pickedUpBy: who.userId, pickedUpAt: sql`now()` }),
  },
  resolve: {
    event: 'escalation.resolved',
    from: ACTIVE_HANDOFF_STATUSES,
    set: (who) => ({ status: 'resolved', closedBy: who.userId, closedAt: sql`now()` }),
  },
  cancel: {
    event: 'escalation.cancelled',
    from: ACTIVE_HANDOFF_STATUSES,
    set: (who) => ({ status: 'cancelled', closedBy: who.userId, closedAt: sql`now()` }),
  },
};

export type TransitionResult =
  /** Committed with its outbox row; `event` is still to be published. */
  | { ok: true; card: EscalationCard; event: HubEvent }
  | { ok: false; reason: 'not_found' }
  /** The card's state did not allow it; `current` is the card as it is. */
  | { ok: false; reason: 'refused'; current: EscalationCard };

/**
 * A state change in one conditional UPDATE, with its outbox record in the same transaction: of
 * two concurrent pick-ups exactly one matches `status = 'open'`; the other learns who has it.
 */
export async function transitionHandoff(
  db: Db,
  who: Identity,
  name: HandoffTransition,
  id: string,
): Promise<TransitionResult> {
  const t = transitions[name];
  return transaction(db, async (tx): Promise<TransitionResult> => {
    const [updated] = await tx
      .update(handoffs)
      .set({ ...t.set(who), version: sql`${handoffs.version} + 1`, updatedAt: sql`now()` })
      .where(
        and(
          eq(handoffs.id, id),
          eq(handoffs.accountId, who.accountId),
          inArray(handoffs.status, [...t.from]),
        ),
      )
      .returning({ id: handoffs.id });
    const card = await loadCard(tx, who.accountId, id);
    if (!card) return { ok: false, reason: 'not_found' };
    if (!updated) return { ok: false, reason: 'refused', current: card };
    return { ok: true, card, event: await recordChange(tx, who.accountId, t.event, card) };
  });
}
