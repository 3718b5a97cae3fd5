import type { EscalationCard } from '../../../worker/contract/events';
import { type ClockLook, cardClocks } from '../lib/sla';
import { Icon, type IconName } from './icon';

/** An icon for each look, besides the words and the colour: never the colour alone. */
const ICON: Record<ClockLook, IconName> = {
  ok: 'clock',
  warning: 'warning',
  breached: 'breach',
  met: 'check',
};

/** A card's SLA clocks as countdowns in words: due in, at risk, breached, met. */
export function SlaClocks({ card, now }: { card: EscalationCard; now: number }) {
  const views = cardClocks(card, now);
  if (views.length === 0) return null;
  return (
    <ul class="sla-clocks" aria-label="SLA clocks">
      {views.map((v) => (
        // data-look is what the reader's clock shows now; data-state what the server last said.
        <li
          key={v.clock}
          class="sla-clock"
          data-clock={v.clock}
          data-look={v.look}
          data-state={card.sla[v.clock]}
        >
          <span class="sla-icon" data-icon={ICON[v.look]}>
            <Icon name={ICON[v.look]} />
          </span>
          <span class="sla-text">{v.text}</span>
        </li>
      ))}
    </ul>
  );
}
