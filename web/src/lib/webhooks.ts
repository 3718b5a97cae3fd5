import {
  ESCALATION_EVENT_TYPES,
  RUN_WEBHOOK_EVENT_TYPES,
  selectsEvent,
} from '../../../worker/contract/events';
import type { Schema } from './api';
import { formatSeconds } from './format';

// The webhook admin page's logic: the events an endpoint can choose, how a choice of patterns
// and types combines, and the words for each state (never colour alone).

export type Endpoint = Schema<'Webhook'>;
export type Delivery = Schema<'WebhookDelivery'>;
export type Selector = Schema<'CreateWebhook'>['events'][number];

export interface EventGroup {
  pattern: Selector;
  label: string;
  types: readonly Selector[];
}

export const EVENT_GROUPS: readonly EventGroup[] = [
  { pattern: 'escalation.*', label: 'Every escalation event', types: ESCALATION_EVENT_TYPES },
  { pattern: 'run.*', label: 'Every run event', types: RUN_WEBHOOK_EVENT_TYPES },
];

/** "escalation.picked_up" → "picked up". */
export const eventLabel = (type: string) => type.replace(/^[a-z]+\./, '').replace(/_/g, ' ');

/** Whether `type` is chosen, directly or by a pattern. */
export const isSelected = (selected: readonly string[], type: string) => selectsEvent(selected, type);

/**
 * Turns one box on or off. Choosing a family (`escalation.*`) replaces its single types, and
 * unchoosing one type of a chosen family keeps the others.
 */
export function toggleSelector(selected: readonly Selector[], value: Selector, on: boolean): Selector[] {
  const group = EVENT_GROUPS.find((g) => g.pattern === value);
  if (group) {
    const rest = selected.filter((s) => s !== value && !group.types.includes(s));
    return on ? [...rest, value] : rest;
  }
  const family = EVENT_GROUPS.find((g) => g.types.includes(value));
  if (!on && family && selected.includes(family.pattern)) {
    return [...selected.filter((s) => s !== family.pattern), ...family.types.filter((t) => t !== value)];
  }
  const rest = selected.filter((s) => s !== value);
  return on ? [...rest, value] : rest;
}

/** The endpoint's state in words. */
export function endpointState(e: Pick<Endpoint, 'enabled' | 'disabled_reason'>): {
  key: string;
  text: string;
} {
  if (e.enabled) return { key: 'enabled', text: 'Enabled' };
  if (e.disabled_reason === 'gone') return { key: 'gone', text: 'Disabled: the receiver answered 410 Gone' };
  if (e.disabled_reason === 'failing')
    return { key: 'failing', text: 'Disabled: every delivery failed for 5 days' };
  return { key: 'disabled', text: 'Disabled by an admin' };
}

export const STATUS_TEXT: Record<Delivery['status'], string> = {
  succeeded: 'Delivered',
  pending: 'Will retry',
  failed: 'Failed',
};

/** When the next attempt is due: "in 4 s", "due now", or "—". */
export function nextAttemptText(d: Pick<Delivery, 'next_attempt_at'>, now: number): string {
  if (!d.next_attempt_at) return '—';
  const seconds = (Date.parse(d.next_attempt_at) - now) / 1000;
  return seconds <= 0 ? 'due now' : `in ${formatSeconds(Math.ceil(seconds))}`;
}

export const durationText = (ms: number | null) => (ms === null ? '—' : formatSeconds(ms / 1000));

/** Where a Slack or Standard Webhooks receiver is, without its path (a Slack URL's path is its secret). */
export function originOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
