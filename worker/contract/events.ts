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

/** Tokens an `llm` node used; `estimated` when the provider reported none (about 4 characters a token). */
export interface LlmUsage {
  prompt_tokens: number;
  completion_tokens: number;
  estimated?: true;
}

export type RunEvent =
  | {
      type: 'run_started';
      data: {
        run_id: string;
        graph_id: string;
        input: unknown;
        /** A rerun: the run it was started from, and the node it started at. */
        parent_run_id?: string;
        from_node?: string;
      };
    }
  /** `attempt` is present from the second attempt of a node with a retry policy on. */
  | { type: 'node_started'; data: { node_id: string; attempt?: number } }
  | {
      type: 'node_completed';
      data: {
        node_id: string;
        state: Record<string, unknown>;
        duration_ms: number;
        tool_error?: string;
        /** On `llm` nodes. */
        usage?: LlmUsage;
      };
    }
  /** An attempt failed and another one is due at `next_attempt_at` (ISO 8601). */
  | {
      type: 'node_retrying';
      data: {
        node_id: string;
        attempt: number;
        max_attempts: number;
        error: string;
        next_attempt_at: string;
      };
    }
  /**
   * Ephemeral (no id, never logged or replayed): text an `llm` node with `stream: true` produced
   * since the last frame; with `replace: true` it is the whole text so far and replaces what the
   * client holds (the first frame of an attempt, and the first frame a new subscriber gets).
   */
  | { type: 'node_delta'; data: { node_id: string; text: string; replace?: true } }
  | { type: 'edge_traversed'; data: { from: string; to: string; condition_result?: boolean } }
  | { type: 'graph_paused'; data: { node_id: string; prompt: string } }
  | { type: 'run_resumed'; data: { node_id: string } }
  | { type: 'graph_completed'; data: { final_state: Record<string, unknown>; duration_ms: number } }
  | { type: 'error'; data: { code: RunErrorCode; message: string } };

export type RunEventType = RunEvent['type'];
export const TERMINAL_RUN_EVENTS: readonly RunEventType[] = ['graph_completed', 'error'];

export type StreamEvent = EscalationEvent | ResetEvent | RunEvent;
