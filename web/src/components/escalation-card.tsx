import type { EscalationCard, PresenceUser } from '../../../worker/contract/events';
import { formatAge, formatCountdown, formatTime } from '../lib/format';
import { paths } from '../lib/router';
import { Alert } from './alert';
import { Avatars } from './avatars';
import { Icon } from './icon';
import { SeverityPill } from './severity-pill';
import { SlaClocks } from './sla-clocks';

export interface CardProps {
  card: EscalationCard;
  now: number;
  /** Arrived live: slides in (unless the user prefers reduced motion). */
  entering: boolean;
  canPickUp: boolean;
  busy: boolean;
  /** A message about this card, e.g. that someone else got it first. */
  notice: string | null;
  onPickUp: (card: EscalationCard) => void;
  /** The card's current level names the reader. */
  askingMe: boolean;
  /** Who has the card open now (presence), the reader left out. */
  viewers: readonly PresenceUser[];
  /** The card the queue's keyboard is on (j/k): it takes the focus. */
  selected?: boolean;
}

/** "Asking you", with an icon and the words: the card's current level names the reader. */
export function AskingBadge() {
  return (
    <span class="asking-badge">
      <Icon name="bell" /> Asking you
    </span>
  );
}

/** Where re-escalation stands: the level reached and when the next one is due. */
export function levelLine(card: EscalationCard, now: number): string | null {
  if (card.status !== 'open') return null;
  const parts: string[] = [];
  if (card.level > 0) parts.push(`Re-escalated to level ${card.level}`);
  if (card.next_level_at) {
    const left = formatCountdown(Date.parse(card.next_level_at) - now);
    parts.push(`${parts.length > 0 ? 'next' : 'Next'} re-escalation in ${left}`);
  }
  return parts.length > 0 ? parts.join(' · ') : null;
}

function statusLine(card: EscalationCard): string {
  switch (card.status) {
    case 'open':
      return 'Waiting for pick-up';
    case 'picked_up':
      return `Picked up by ${card.picked_up_by?.name ?? 'someone'}`;
    case 'resolved':
      return `Resolved${card.closed_by ? ` by ${card.closed_by.name}` : ''}`;
    case 'cancelled':
      return `Cancelled${card.closed_by ? ` by ${card.closed_by.name}` : ''}`;
  }
}

const aiLabel = {
  pending: 'Assessment pending',
  done: 'Assessment ready',
  failed: 'Assessment failed',
} as const;

export function EscalationCardView({
  card,
  now,
  entering,
  canPickUp,
  busy,
  notice,
  onPickUp,
  askingMe,
  viewers,
  selected = false,
}: CardProps) {
  const titleId = `card-title-${card.id}`;
  const topId = `card-top-${card.id}`;
  const level = levelLine(card, now);
  return (
    <li
      class={`card${entering ? ' entering' : ''}${selected ? ' selected' : ''}`}
      data-id={card.id}
      data-status={card.status}
      data-severity={card.severity}
      data-asking={askingMe ? 'me' : undefined}
      aria-labelledby={titleId}
      aria-describedby={topId}
      aria-current={selected ? 'true' : undefined}
      // Reached with j and k (the queue moves the focus), not with Tab: its buttons are.
      tabIndex={-1}
    >
      <div class="card-top" id={topId}>
        <SeverityPill severity={card.severity} />
        {askingMe && <AskingBadge />}
        <span class="card-status" data-status={card.status}>
          {statusLine(card)}
        </span>
        <time class="card-age" dateTime={card.created_at} title={formatTime(card.created_at)}>
          {formatAge(card.created_at, now)}
        </time>
      </div>
      <h3 class="card-title" id={titleId}>
        {card.session.title}
      </h3>
      <p class="card-reason">{card.reason}</p>
      <p class="card-meta">
        {card.intent === 'transfer' ? 'Transfer' : 'Escalation'} from {card.created_by.name}
        {card.session.customer ? ` · ${card.session.customer}` : ''} ·{' '}
        <span data-ai={card.ai_status}>{aiLabel[card.ai_status]}</span>
      </p>
      <div class="card-clocks">
        <SlaClocks card={card} now={now} />
        {level && <p class="card-level">{level}</p>}
        <Avatars people={viewers} label="Viewing now" />
      </div>
      <Alert class="card-notice" text={notice} />
      <div class="card-actions">
        {card.status === 'open' && canPickUp && (
          <button
            type="button"
            class="primary"
            disabled={busy}
            onClick={() => onPickUp(card)}
            aria-describedby={titleId}
          >
            {busy ? 'Picking up…' : 'Pick up'}
          </button>
        )}
        <a class="button" href={paths.handoff(card.id)} aria-describedby={titleId}>
          View hand-off
        </a>
      </div>
    </li>
  );
}
