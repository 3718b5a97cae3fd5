// The event contract shared by the Worker, the hub and the site (web/ imports this file):
// one union per stream, switched exhaustively on both sides.

import type {
  AiStatus,
  HandoffIntent,
  HandoffStatus,
  NotifyGroup,
  RunErrorCode,
  Severity,
  SlaClock,
  SlaState,
} from './statuses';

export type { AiStatus, HandoffStatus, RunErrorCode, Severity, SlaClock, SlaState };

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
  /**
   * What the steps tried so far rule out. Absent from assessments stored before it existed, and
   * from a model's answer that did not give it.
   */
  ruled_out?: string[];
  suggested_next_steps: string[];
  generated_at: string;
}

/** Who a card is asking now: a group, or these users (a transfer's target, a level's list). */
export type Notify = NotifyGroup | string[];

/**
 * A card's two clocks (DESIGN.md "When nobody picks up"). The `*_warn_at` times, when the
 * warning falls due, are this project's addition: the site and the hub's timers read them.
 */
export interface SlaClocks {
  pickup_due_at: string;
  resolve_due_at: string;
  pickup_warn_at: string;
  resolve_warn_at: string;
  pickup: SlaState;
  resolve: SlaState;
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
  /** The clocks, from the policy the card was created under. */
  sla: SlaClocks;
  /** The re-escalation level reached: 0 at creation and after a release. */
  level: number;
  /** Who is being asked now. */
  notify: Notify;
  /** When the next re-escalation is due; null when none is (picked up, closed, or no level left). */
  next_level_at: string | null;
  /** The version of the account's escalation policy the card was created under (0: the default). */
  policy_version: number;
  version: number;
  created_at: string;
  updated_at: string;
}

export const ESCALATION_EVENT_TYPES = [
  'escalation.created',
  'escalation.assessed',
  'escalation.picked_up',
  'escalation.released',
  'escalation.reescalated',
  'escalation.sla_warning',
  'escalation.sla_breached',
  'escalation.resolved',
  'escalation.cancelled',
] as const;
export type EscalationEventType = (typeof ESCALATION_EVENT_TYPES)[number];

/** What every escalation event carries: the whole card. */
export interface CardData {
  card: EscalationCard;
  version: number;
}

/** The fields some escalation events add to `{card, version}`. */
export interface EscalationEventExtras {
  'escalation.released': { by: Person; reason: string | null };
  'escalation.reescalated': { level: number; notify: Notify };
  'escalation.sla_warning': { clock: SlaClock };
  'escalation.sla_breached': { clock: SlaClock };
}

/** The extra fields of one event type (none for most). */
export type ExtrasOf<T extends EscalationEventType> = T extends keyof EscalationEventExtras
  ? EscalationEventExtras[T]
  : Record<never, never>;

export type EscalationEvent = {
  [T in EscalationEventType]: { type: T; data: CardData & ExtrasOf<T> };
}[EscalationEventType];

/** Someone, as presence names them. */
export interface PresenceUser {
  user_id: string;
  name: string;
}

/**
 * Ephemeral (no id, never logged or replayed): who has an escalation stream open, and who is
 * looking at which card.
 */
export interface PresenceEvent {
  type: 'presence';
  data: { online: PresenceUser[]; viewing: Record<string, PresenceUser[]> };
}
export type PresenceSnapshot = PresenceEvent['data'];

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

export type StreamEvent = EscalationEvent | PresenceEvent | ResetEvent | RunEvent;
