// Every closed list of values that the API, the database and the site share, written once.
// The types are derived from these lists, and so are the Postgres enums (db/schema.ts), the zod
// enums that validate requests and describe the API, the metrics' zero-filled counts and the
// site's choices: adding a value here reaches all of them (and a migration, from db:generate).

export const ROLES = ['engineer', 'admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
/** The roles that act (escalate, pick up, record steps, run graphs); a viewer only reads. */
export const ACTING_ROLES = ['engineer', 'admin'] as const satisfies readonly Role[];

export const SEVERITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const HANDOFF_STATUSES = ['open', 'picked_up', 'resolved', 'cancelled'] as const;
export type HandoffStatus = (typeof HANDOFF_STATUSES)[number];
/** Not closed yet: waiting for pick-up or being worked on. */
export const ACTIVE_HANDOFF_STATUSES = ['open', 'picked_up'] as const satisfies readonly HandoffStatus[];

export const HANDOFF_INTENTS = ['escalate', 'transfer'] as const;
export type HandoffIntent = (typeof HANDOFF_INTENTS)[number];

/** The two clocks of a card: from creation to the first pick-up, and to resolve or cancel. */
export const SLA_CLOCKS = ['pickup', 'resolve'] as const;
export type SlaClock = (typeof SLA_CLOCKS)[number];

/** A clock runs while `ok` or `warning`; a stopped clock is `met` or stays `breached`. */
export const SLA_STATES = ['ok', 'warning', 'breached', 'met'] as const;
export type SlaState = (typeof SLA_STATES)[number];
export const RUNNING_SLA_STATES = ['ok', 'warning'] as const satisfies readonly SlaState[];

/** Who a re-escalation level asks besides a list of user ids. */
export const NOTIFY_GROUPS = ['everyone', 'admins'] as const;
export type NotifyGroup = (typeof NOTIFY_GROUPS)[number];

/** Every kind of change a card's timeline records. */
export const TIMELINE_TYPES = [
  'created',
  'assessed',
  'picked_up',
  'released',
  'reescalated',
  'sla_warning',
  'sla_breached',
  'resolved',
  'cancelled',
] as const;
export type TimelineType = (typeof TIMELINE_TYPES)[number];

export const AI_STATUSES = ['pending', 'done', 'failed'] as const;
export type AiStatus = (typeof AI_STATUSES)[number];

export const STEP_OUTCOMES = ['worked', 'failed', 'partial', 'unknown'] as const;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];

export const RUN_STATUSES = [
  'queued',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
  'timed_out',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** Statuses a run has in the hub; `queued` exists only in Postgres, before the hub accepts it. */
export type HubRunStatus = Exclude<RunStatus, 'queued'>;

/** A run in one of these has ended for good; the others are live. */
export const TERMINAL_RUN_STATUSES = [
  'completed',
  'failed',
  'cancelled',
  'timed_out',
] as const satisfies readonly RunStatus[];
export const LIVE_RUN_STATUSES = ['queued', 'running', 'paused'] as const satisfies readonly RunStatus[];
export type TerminalRunStatus = (typeof TERMINAL_RUN_STATUSES)[number];
export const isTerminalStatus = (status: string): status is TerminalRunStatus =>
  isOneOf(TERMINAL_RUN_STATUSES, status);

export const RUN_ERROR_CODES = [
  'node_failed',
  'timeout',
  'cancelled',
  'pause_timeout',
  'lost',
  'internal',
] as const;
export type RunErrorCode = (typeof RUN_ERROR_CODES)[number];

// ── outbound webhooks ───────────────────────────────────────────────────────────────────────

/** What an endpoint receives: Standard Webhooks JSON, or a Slack incoming-webhook message. */
export const WEBHOOK_FORMATS = ['standard', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** One delivery attempt: `pending` when another attempt follows, else how it ended. */
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** Why Switchboard turned an endpoint off itself (null when an admin did, or it is on). */
export const WEBHOOK_DISABLED_REASONS = ['gone', 'failing'] as const;
export type WebhookDisabledReason = (typeof WEBHOOK_DISABLED_REASONS)[number];
/**
 * What a failed attempt of an `llm` or `tool` node was, for its retry policy's `retry_on`:
 * `timeout`, `rate_limited` (HTTP 429 or the provider saying so), `http_5xx`, and `error` for
 * every other failure.
 */
export const RETRY_ON = ['timeout', 'error', 'http_5xx', 'rate_limited'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

/** Whether `value` is one of `values`, narrowing it to the list's type. */
export function isOneOf<const T extends readonly string[]>(values: T, value: unknown): value is T[number] {
  return (values as readonly unknown[]).includes(value);
}

/** A zero for each value of a list: counts that name every value, also the ones with none. */
export function zeroCounts<const T extends readonly string[]>(values: T): Record<T[number], number> {
  return Object.fromEntries(values.map((v) => [v, 0])) as Record<T[number], number>;
}
