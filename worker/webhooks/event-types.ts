import {
  type RUN_WEBHOOK_EVENT_TYPES,
  WEBHOOK_EVENT_PATTERNS,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from '../contract/events';
import { isOneOf } from '../contract/statuses';
import { ESCALATIONS_TOPIC } from '../escalations/topic';
import { runIdOfTopic } from '../runs/run-types';

// Which logged hub events leave as webhooks, under which name, and which endpoints want them.

/** A run's stream event as its webhook type: pauses and the two ends; the steps stay inside. */
const RUN_EVENTS: Record<string, (typeof RUN_WEBHOOK_EVENT_TYPES)[number]> = {
  graph_paused: 'run.paused',
  graph_completed: 'run.completed',
  error: 'run.failed',
};

/** The webhook type of a logged event, or null when it is not one that leaves. */
export function webhookTypeOf(topic: string, type: string): WebhookEventType | null {
  if (topic === ESCALATIONS_TOPIC) return isOneOf(WEBHOOK_EVENT_TYPES, type) ? type : null;
  if (runIdOfTopic(topic) !== null) return RUN_EVENTS[type] ?? null;
  return null;
}

/** Whether an `events` entry is valid: an event type or one of the patterns. */
export const isEventSelector = (value: string) =>
  isOneOf(WEBHOOK_EVENT_TYPES, value) || isOneOf(WEBHOOK_EVENT_PATTERNS, value);
