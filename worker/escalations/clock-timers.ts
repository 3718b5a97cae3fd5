import type { EscalationCard } from '../contract/events';
import { isOneOf, RUNNING_SLA_STATES, type SlaClock } from '../contract/statuses';

// Which durable timers a card wants in the hub's job table, read off the card alone: every
// escalation event carries the whole card, so the newest one says what must still happen.

export const TIMER_JOB_KIND = 'escalation-timer';

export type ClockTimer = `${SlaClock}_${'warning' | 'breach'}` | 'reescalate';

/** A timer's job payload: what to do to which card, and when it fell due. */
export interface TimerPayload {
  handoffId: string;
  timer: ClockTimer;
  /** ISO time it is due; a re-escalation fires only while the card still expects it then. */
  due: string;
}

export interface WantedTimer {
  /** One job per card and timer, so re-arming one is an upsert. */
  id: string;
  runAt: number;
  payload: TimerPayload;
}

const TIMERS: readonly ClockTimer[] = [
  'pickup_warning',
  'pickup_breach',
  'resolve_warning',
  'resolve_breach',
  'reescalate',
];

export const timerJobId = (handoffId: string, timer: ClockTimer) => `timer:${handoffId}:${timer}`;

/** When `timer` is due for this card, or null when the card does not want it (any more). */
function dueOf(card: EscalationCard, timer: ClockTimer): string | null {
  switch (timer) {
    case 'pickup_warning':
      return card.sla.pickup === 'ok' ? card.sla.pickup_warn_at : null;
    case 'pickup_breach':
      return isOneOf(RUNNING_SLA_STATES, card.sla.pickup) ? card.sla.pickup_due_at : null;
    case 'resolve_warning':
      return card.sla.resolve === 'ok' ? card.sla.resolve_warn_at : null;
    case 'resolve_breach':
      return isOneOf(RUNNING_SLA_STATES, card.sla.resolve) ? card.sla.resolve_due_at : null;
    case 'reescalate':
      return card.status === 'open' ? card.next_level_at : null;
  }
}

/** The timers to arm (id, time, payload) and the ids of those to drop, for this card as it is. */
export function timersOf(card: EscalationCard): { arm: WantedTimer[]; drop: string[] } {
  const arm: WantedTimer[] = [];
  const drop: string[] = [];
  for (const timer of TIMERS) {
    const id = timerJobId(card.id, timer);
    const due = dueOf(card, timer);
    if (due === null) drop.push(id);
    else arm.push({ id, runAt: Date.parse(due), payload: { handoffId: card.id, timer, due } });
  }
  return { arm, drop };
}
