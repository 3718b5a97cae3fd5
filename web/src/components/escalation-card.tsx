import type { EscalationCard } from '../../../worker/contract/events';
import { formatAge, formatTime } from '../lib/format';
import { paths } from '../lib/router';
import { SeverityPill } from './severity-pill';

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
  pending: 'AI assessment pending',
  done: 'AI assessment ready',
  failed: 'AI assessment failed',
} as const;

export function EscalationCardView({ card, now, entering, canPickUp, busy, notice, onPickUp }: CardProps) {
  const titleId = `card-title-${card.id}`;
  return (
    <li
      class={`card${entering ? ' entering' : ''}`}
      data-id={card.id}
      data-status={card.status}
      data-severity={card.severity}
      aria-labelledby={titleId}
    >
      <div class="card-top">
        <SeverityPill severity={card.severity} />
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
      {notice && (
        <p class="card-notice" role="alert">
          {notice}
        </p>
      )}
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
