import type { Notify } from '../../../worker/contract/events';
import type { Schema } from './api';
import { listNames } from './sla';

// A card's timeline, one sentence per change.

export type TimelineItem = Schema<'TimelineItem'>;

const clockName = (clock: unknown) => (clock === 'resolve' ? 'Resolve' : 'Pick-up');

function whom(notify: unknown, nameOf: (id: string) => string): string {
  if (Array.isArray(notify)) return listNames((notify as string[]).map(nameOf));
  return notify === 'admins' ? 'admins' : 'everyone';
}

export function timelineText(item: TimelineItem, nameOf: (id: string) => string): string {
  const who = item.actor?.name ?? 'Someone';
  const d = item.details as Record<string, unknown>;
  switch (item.type) {
    case 'created':
      return d.intent === 'transfer' && typeof d.to_user_id === 'string'
        ? `${who} transferred it to ${nameOf(d.to_user_id)} (${String(d.severity)})`
        : `${who} escalated it (${String(d.severity)})`;
    case 'assessed':
      if (d.ai_status === 'failed') return 'The AI assessment failed';
      return d.source === 'heuristic' ? 'The heuristic assessment arrived' : 'The AI assessment arrived';
    case 'picked_up':
      return `${who} picked it up`;
    case 'released':
      return `${who} released it back to the queue${typeof d.reason === 'string' ? `: “${d.reason}”` : ''}`;
    case 'reescalated':
      return `Re-escalated to level ${String(d.level)}: asking ${whom(d.notify as Notify, nameOf)}`;
    case 'sla_warning':
      return `${clockName(d.clock)} SLA at risk`;
    case 'sla_breached':
      return `${clockName(d.clock)} SLA breached`;
    case 'resolved':
      return `${who} resolved it`;
    case 'cancelled':
      return `${who} cancelled it`;
  }
}
