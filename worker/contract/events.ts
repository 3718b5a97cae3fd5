// The event contract shared by the Worker, the hub and the site (web/ imports this file):
// one union per stream, switched exhaustively on both sides.

import type { AiStatus, HandoffIntent, HandoffStatus, RunErrorCode, Severity } from './statuses';

export type { AiStatus, HandoffStatus, RunErrorCode, Severity };

export interface Person {
  id: string;
  name: string;
}

export interface AiAssessmentJson {
  source: 'heuristic' | 'llm';
  provider: string;
  model: string | null;
  summary: string;
  likely_cause: string | null;
  suggested_next_steps: string[];
  generated_at: string;
}

/** A handoff as the queue shows it; every change bumps `version`. */
export interface EscalationCard {
  id: string;
  session_id: string;
  intent: HandoffIntent;
  reason: string;
  severity: Severity;
  status: HandoffStatus;
  to_user_id: string | null;
  created_by: Person;
  picked_up_by: Person | null;
  picked_up_at: string | null;
  closed_by: Person | null;
  closed_at: string | null;
  session: { title: string; problem_summary: string; customer: string | null };
  ai_status: AiStatus;
  ai_assessment: AiAssessmentJson | null;
  ai_error: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export const ESCALATION_EVENT_TYPES = [
  'escalation.created',
  'escalation.assessed',
  'escalation.picked_up',
  'escalation.resolved',
  'escalation.cancelled',
] as const;
export type EscalationEventType = (typeof ESCALATION_EVENT_TYPES)[number];

export type EscalationEvent = { type: EscalationEventType; data: { card: EscalationCard; version: number } };

/** Sent first when the requested Last-Event-ID is older than the log or unknown. */
export interface ResetEvent {
  type: 'reset';
  data: { reason: 'too_old' | 'unknown'; last_event_id: number };
}

export type RunEvent =
  | { type: 'run_started'; data: { run_id: string; graph_id: string; input: unknown } }
  | { type: 'node_started'; data: { node_id: string } }
  | {
      type: 'node_completed';
      data: { node_id: string; state: Record<string, unknown>; duration_ms: number; tool_error?: string };
    }
  | { type: 'edge_traversed'; data: { from: string; to: string; condition_result?: boolean } }
  | { type: 'graph_paused'; data: { node_id: string; prompt: string } }
  | { type: 'run_resumed'; data: { node_id: string } }
  | { type: 'graph_completed'; data: { final_state: Record<string, unknown>; duration_ms: number } }
  | { type: 'error'; data: { code: RunErrorCode; message: string } };

export type RunEventType = RunEvent['type'];
export const TERMINAL_RUN_EVENTS: readonly RunEventType[] = ['graph_completed', 'error'];

/** What a run's stream events are called when they leave as webhooks (the others do not). */
export const RUN_WEBHOOK_EVENT_TYPES = ['run.paused', 'run.completed', 'run.failed'] as const;
export type RunWebhookEventType = (typeof RUN_WEBHOOK_EVENT_TYPES)[number];

/** Every event type an outbound webhook can carry; `ping` is the test an admin sends. */
export const WEBHOOK_EVENT_TYPES = [...ESCALATION_EVENT_TYPES, ...RUN_WEBHOOK_EVENT_TYPES, 'ping'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/** Patterns an endpoint may subscribe with besides exact types: a family, or everything. */
export const WEBHOOK_EVENT_PATTERNS = ['*', 'escalation.*', 'run.*'] as const;

/** Whether an endpoint subscribed with `selectors` (types and patterns) receives `type`. */
export function selectsEvent(selectors: readonly string[], type: string): boolean {
  return selectors.some(
    (s) => s === type || s === '*' || (s.endsWith('.*') && type.startsWith(s.slice(0, -1))),
  );
}

export type StreamEvent = EscalationEvent | ResetEvent | RunEvent;
