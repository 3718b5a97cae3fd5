import type { EscalationCard, SlaClock } from '../../../worker/contract/events';
import { ACTIVE_HANDOFF_STATUSES, isOneOf, type Role } from '../../../worker/contract/statuses';
import { formatCountdown } from './format';

// What a card's clocks look like to a person now, and whether the card is asking them. The
// server moves a clock to warning and breached with an event; between its due time and that
// event (at most a couple of seconds) the countdown already shows what is coming.

export type ClockLook = 'ok' | 'warning' | 'breached' | 'met';

export interface ClockView {
  clock: SlaClock;
  look: ClockLook;
  /** The whole state in words: never left to colour or the icon. */
  text: string;
}

const LABEL: Record<SlaClock, string> = { pickup: 'Pick-up', resolve: 'Resolve' };

export function clockView(card: EscalationCard, clock: SlaClock, now: number): ClockView {
  const state = card.sla[clock];
  const label = LABEL[clock];
  if (state === 'met') {
    const done =
      clock === 'pickup'
        ? 'Picked up in time'
        : card.status === 'cancelled'
          ? 'Closed in time'
          : 'Resolved in time';
    return {
      clock,
      look: 'met',
      text: card.status === 'open' && clock === 'pickup' ? `${label} was in time` : done,
    };
  }
  const due = Date.parse(clock === 'pickup' ? card.sla.pickup_due_at : card.sla.resolve_due_at);
  const warn = Date.parse(clock === 'pickup' ? card.sla.pickup_warn_at : card.sla.resolve_warn_at);
  if (state === 'breached' && (now < due || !isOneOf(ACTIVE_HANDOFF_STATUSES, card.status))) {
    return { clock, look: 'breached', text: `${label} SLA breached` };
  }
  if (state === 'breached' || now >= due) {
    return { clock, look: 'breached', text: `${label} SLA breached ${formatCountdown(now - due)} ago` };
  }
  const left = formatCountdown(due - now);
  if (state === 'warning' || now >= warn)
    return { clock, look: 'warning', text: `${label} SLA at risk: ${left} left` };
  return { clock, look: 'ok', text: `${label} due in ${left}` };
}

/** The clocks worth showing on a card: the running ones, and how a stopped one ended. */
export function cardClocks(card: EscalationCard, now: number): ClockView[] {
  const open = isOneOf(ACTIVE_HANDOFF_STATUSES, card.status);
  const views = [clockView(card, 'pickup', now), clockView(card, 'resolve', now)];
  // A closed card that kept both clocks needs no reminder of it; an open one shows both.
  return open ? views : views.filter((v) => v.look === 'breached');
}

/**
 * Whether the card asks this user now (DESIGN.md: `notify` lists them, or is `admins` and they
 * are one; as the server's `asking=me`, only while the card waits for pick-up).
 */
export function isAskingMe(card: EscalationCard, user: { userId: string; role: Role }): boolean {
  if (card.status !== 'open') return false;
  return Array.isArray(card.notify)
    ? card.notify.includes(user.userId)
    : card.notify === 'admins' && user.role === 'admin';
}

/** Who the card asks now, in words. */
export function notifyText(card: EscalationCard, nameOf: (id: string) => string): string {
  if (card.notify === 'everyone') return 'everyone';
  if (card.notify === 'admins') return 'admins';
  return listNames(card.notify.map(nameOf));
}

/** "Bob", "Bob and Carol", "Bob, Carol and Dan". */
export function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? 'nobody';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
