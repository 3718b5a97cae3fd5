import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  date,
  type ExtraConfigColumn,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { AiAssessmentJson, Notify } from '../contract/events';
import {
  AI_STATUSES,
  HANDOFF_INTENTS,
  HANDOFF_STATUSES,
  ROLES,
  RUN_STATUSES,
  SEVERITIES,
  SLA_STATES,
  STEP_OUTCOMES,
  TIMELINE_TYPES,
  WEBHOOK_DELIVERY_STATUSES,
  WEBHOOK_DISABLED_REASONS,
  WEBHOOK_FORMATS,
} from '../contract/statuses';

// The one drizzle schema module: every table Switchboard keeps in Postgres.
// Migrations in migrations/ are generated from this file by drizzle-kit.

// The columns most tables share, declared once. Their SQL is what migrations/ already holds:
// drizzle-kit generates the same schema from them (`npm run db:generate` finds nothing to do).

/** A time to the millisecond, as the API shows it. */
const ms = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });
/** A time at Postgres' default precision (microseconds). */
const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
// Millisecond precision on purpose: list cursors carry a JavaScript Date, and a microsecond
// column let rows within one millisecond of a page's last item fall between pages.
const createdAt = () => ms('created_at').notNull().defaultNow();
const updatedAt = () => tz('updated_at').notNull().defaultNow();
/** A row's own id, drawn by Postgres unless the insert names one. */
const randomId = () => uuid('id').primaryKey().defaultRandom();

export const roleEnum = pgEnum('user_role', ROLES);
export const stepOutcomeEnum = pgEnum('step_outcome', STEP_OUTCOMES);

export const accounts = pgTable('accounts', {
  id: uuid('id').primaryKey(),
  createdAt: createdAt(),
});

/** The account a row belongs to, which must exist. */
const accountRef = () =>
  uuid('account_id')
    .notNull()
    .references(() => accounts.id);

/** The index behind an account's list (lib/pagination.ts `keysetPage`): its rows, newest first. */
const accountListIndex = (
  name: string,
  t: { accountId: ExtraConfigColumn; createdAt: ExtraConfigColumn; id: ExtraConfigColumn },
) => index(name).on(t.accountId, t.createdAt.desc(), t.id.desc());

// Users are provisioned from token claims; name and role follow the latest token seen.
export const users = pgTable(
  'users',
  {
    accountId: accountRef(),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    role: roleEnum('role').notNull(),
    createdAt: createdAt(),
    lastSeenAt: tz('last_seen_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.id] })],
);

export const sessions = pgTable(
  'sessions',
  {
    id: randomId(),
    accountId: accountRef(),
    createdBy: uuid('created_by').notNull(),
    title: text('title').notNull(),
    problemSummary: text('problem_summary').notNull(),
    customer: text('customer'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [accountListIndex('sessions_account_created_idx', t)],
);

export const sessionSteps = pgTable(
  'session_steps',
  {
    id: randomId(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id),
    accountId: uuid('account_id').notNull(),
    authorId: uuid('author_id').notNull(),
    action: text('action').notNull(),
    outcome: stepOutcomeEnum('outcome').notNull(),
    notes: text('notes'),
    createdAt: createdAt(),
  },
  (t) => [index('session_steps_session_idx').on(t.sessionId, t.createdAt)],
);

export const handoffIntentEnum = pgEnum('handoff_intent', HANDOFF_INTENTS);
export const severityEnum = pgEnum('handoff_severity', SEVERITIES);
export const handoffStatusEnum = pgEnum('handoff_status', HANDOFF_STATUSES);
export const aiStatusEnum = pgEnum('ai_status', AI_STATUSES);
export const slaStateEnum = pgEnum('sla_state', SLA_STATES);

// The stored assessment is exactly the one the contract publishes.
export type AiAssessment = AiAssessmentJson;

export const handoffs = pgTable(
  'handoffs',
  {
    id: randomId(),
    accountId: accountRef(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id),
    createdBy: uuid('created_by').notNull(),
    intent: handoffIntentEnum('intent').notNull(),
    reason: text('reason').notNull(),
    severity: severityEnum('severity').notNull(),
    toUserId: uuid('to_user_id'),
    status: handoffStatusEnum('status').notNull().default('open'),
    pickedUpBy: uuid('picked_up_by'),
    pickedUpAt: tz('picked_up_at'),
    // The first pick-up: what time-to-pick-up measures, whatever releases followed.
    firstPickedUpAt: tz('first_picked_up_at'),
    closedBy: uuid('closed_by'),
    closedAt: tz('closed_at'),
    aiStatus: aiStatusEnum('ai_status').notNull().default('pending'),
    aiAssessment: jsonb('ai_assessment').$type<AiAssessment>(),
    aiError: text('ai_error'),
    // Bumped by every change; clients keep the card with the higher version.
    version: integer('version').notNull().default(1),
    idempotencyKey: text('idempotency_key'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    // The clocks and the re-escalation sequence, from the policy version the card was created
    // under (0: the default policy). The due times are set by the create statement; they are
    // nullable only so that the migration can add them to existing rows and backfill them.
    policyVersion: integer('policy_version').notNull().default(0),
    pickupWarnAt: ms('pickup_warn_at'),
    pickupDueAt: ms('pickup_due_at'),
    resolveWarnAt: ms('resolve_warn_at'),
    resolveDueAt: ms('resolve_due_at'),
    pickupSla: slaStateEnum('pickup_sla').notNull().default('ok'),
    resolveSla: slaStateEnum('resolve_sla').notNull().default('ok'),
    level: integer('level').notNull().default(0),
    notify: jsonb('notify').$type<Notify>().notNull().default(sql`'"everyone"'::jsonb`),
    // Re-escalations sent since creation or the last release; with the policy's levels and
    // repeat it says which level comes next.
    reescalations: integer('reescalations').notNull().default(0),
    nextLevelAt: ms('next_level_at'),
  },
  (t) => [
    accountListIndex('handoffs_account_created_idx', t),
    uniqueIndex('handoffs_idempotency_idx')
      .on(t.accountId, t.createdBy, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
  ],
);

// Written in the same transaction as the change it announces; the cron relay re-publishes rows the
// hub has not acknowledged, and the hub de-duplicates by id.
export const outbox = pgTable(
  'outbox',
  {
    id: randomId(),
    accountId: uuid('account_id').notNull(),
    topic: text('topic').notNull(),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: createdAt(),
    publishedAt: tz('published_at'),
  },
  (t) => [
    index('outbox_pending_idx').on(t.createdAt).where(sql`${t.publishedAt} is null`),
    // Acknowledged rows are pruned per account once old (escalations/escalation-retention.ts).
    index('outbox_published_idx').on(t.accountId, t.publishedAt).where(sql`${t.publishedAt} is not null`),
  ],
);

// The limit on handoffs per user (MAX_HANDOFFS_PER_MINUTE) as a sliding window: when each of the
// user's handoffs of the last minute was created, at most the limit's number of them. The create
// statement checks and updates it under the row's lock, so concurrent creates cannot both pass.
export const handoffRate = pgTable(
  'handoff_rate',
  {
    accountId: uuid('account_id').notNull(),
    userId: uuid('user_id').notNull(),
    recent: tz('recent').array().notNull().default(sql`'{}'`),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.userId] })],
);

// An account's escalation policy, versioned: PUT adds a version, and a card keeps the version it
// was created under. No row: the default policy (version 0) applies.
export const escalationPolicies = pgTable(
  'escalation_policies',
  {
    accountId: accountRef(),
    version: integer('version').notNull(),
    policy: jsonb('policy').notNull(),
    createdBy: uuid('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.version] })],
);

export const timelineTypeEnum = pgEnum('timeline_type', TIMELINE_TYPES);

// Every change of a card, written in the transaction that made it. A change bumps the card's
// version, so (handoff, version) names one change and orders them.
export const handoffTimeline = pgTable(
  'handoff_timeline',
  {
    handoffId: uuid('handoff_id')
      .notNull()
      .references(() => handoffs.id),
    version: integer('version').notNull(),
    accountId: uuid('account_id').notNull(),
    type: timelineTypeEnum('type').notNull(),
    at: ms('at').notNull().defaultNow(),
    // Who did it, as they were named then; null for what the system did.
    actorId: uuid('actor_id'),
    actorName: text('actor_name'),
    details: jsonb('details').notNull().default({}),
  },
  (t) => [primaryKey({ columns: [t.handoffId, t.version] })],
);

export type HandoffRow = typeof handoffs.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type SessionStepRow = typeof sessionSteps.$inferSelect;

// ── graphs and runs ─────────────────────────────────────────────────────────────────────────

// A graph is immutable once stored: posting the same name again stores version n+1 under a new
// id, so a run always names exactly the graph it executed.
export const graphs = pgTable(
  'graphs',
  {
    id: randomId(),
    accountId: accountRef(),
    name: text('name').notNull(),
    version: integer('version').notNull(),
    createdBy: uuid('created_by').notNull(),
    schema: jsonb('schema').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('graphs_account_name_version_idx').on(t.accountId, t.name, t.version),
    accountListIndex('graphs_account_created_idx', t),
  ],
);

export const runStatusEnum = pgEnum('run_status', RUN_STATUSES);

// The system of record of a run. The hub's SQLite registry is authoritative while the run is
// live; it copies each transition here with `hub_version`, and a write only lands when it is
// newer than what is stored, so retried or reordered writes never move a run backwards.
export const runs = pgTable(
  'runs',
  {
    id: randomId(),
    accountId: accountRef(),
    graphId: uuid('graph_id')
      .notNull()
      .references(() => graphs.id),
    graphVersion: integer('graph_version').notNull(),
    startedBy: uuid('started_by').notNull(),
    status: runStatusEnum('status').notNull().default('queued'),
    input: jsonb('input').notNull(),
    state: jsonb('state'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    pausedNode: text('paused_node'),
    pausedPrompt: text('paused_prompt'),
    currentNode: text('current_node'),
    runTimeoutSeconds: integer('run_timeout_seconds').notNull(),
    pauseTimeoutSeconds: integer('pause_timeout_seconds').notNull(),
    hubVersion: integer('hub_version').notNull().default(0),
    createdAt: createdAt(),
    startedAt: tz('started_at'),
    endedAt: tz('ended_at'),
    activeMs: integer('active_ms'),
    durationMs: integer('duration_ms'),
    updatedAt: updatedAt(),
    // A rerun: the finished run it was started from, and the node it started at.
    parentRunId: uuid('parent_run_id').references((): AnyPgColumn => runs.id),
    fromNode: text('from_node'),
  },
  (t) => [
    accountListIndex('runs_account_created_idx', t),
    index('runs_graph_idx').on(t.graphId),
    index('runs_parent_idx').on(t.parentRunId).where(sql`${t.parentRunId} is not null`),
  ],
);

// `Idempotency-Key`s of `POST /v1/graphs/:id/run`, kept 24 hours: the same key and body answer
// the same run. A run refused over a limit takes its key with it (cascade), so the client may
// retry with the same key. The hub's `run-idempotency-prune` job deletes expired rows.
export const runIdempotencyKeys = pgTable(
  'run_idempotency_keys',
  {
    accountId: uuid('account_id').notNull(),
    userId: uuid('user_id').notNull(),
    key: text('key').notNull(),
    /** `{graph_id, input}` as sent; compared as jsonb, so key order and number spelling do not matter. */
    request: jsonb('request').notNull(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.userId, t.key] }),
    index('run_idempotency_keys_created_idx').on(t.accountId, t.createdAt),
  ],
);

export type GraphRow = typeof graphs.$inferSelect;
export type RunRow = typeof runs.$inferSelect;

// ── outbound webhooks ───────────────────────────────────────────────────────────────────────

export const webhookFormatEnum = pgEnum('webhook_format', WEBHOOK_FORMATS);
export const webhookDeliveryStatusEnum = pgEnum('webhook_delivery_status', WEBHOOK_DELIVERY_STATUSES);
export const webhookDisabledReasonEnum = pgEnum('webhook_disabled_reason', WEBHOOK_DISABLED_REASONS);

// An account's outbound endpoints. The account's hub keeps a copy (ids, url, format, events,
// enabled, secrets) in its SQLite, refreshed after every change here: `version` is bumped by every
// change, so a disable the hub decided (410, five days of failures) lands only on the version it saw.
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: randomId(),
    accountId: accountRef(),
    url: text('url').notNull(),
    format: webhookFormatEnum('format').notNull().default('standard'),
    events: jsonb('events').$type<string[]>().notNull(),
    description: text('description'),
    enabled: boolean('enabled').notNull().default(true),
    disabledReason: webhookDisabledReasonEnum('disabled_reason'),
    // `whsec_` + base64 of 32 random bytes. Signing needs the secret itself, so it is stored
    // as is (Postgres and the hub's storage are encrypted at rest); answers show it only once.
    secret: text('secret').notNull(),
    // The secret before the last rotation, still signing (as a second signature) until it expires.
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: tz('previous_secret_expires_at'),
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [accountListIndex('webhook_endpoints_account_created_idx', t)],
);

// Every delivery attempt, written by the hub in batches after the attempt (the attempt itself
// never waits on Postgres). `created_at` is when the attempt was made; rows are pruned after
// WEBHOOK_DELIVERY_RETENTION_DAYS.
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey(),
    accountId: uuid('account_id').notNull(),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    // The `webhook-id` header: the same for every attempt of one event.
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    attempt: integer('attempt').notNull(),
    status: webhookDeliveryStatusEnum('status').notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    durationMs: integer('duration_ms'),
    error: text('error'),
    createdAt: createdAt(),
    nextAttemptAt: ms('next_attempt_at'),
  },
  (t) => [
    index('webhook_deliveries_endpoint_created_idx').on(t.endpointId, t.createdAt.desc(), t.id.desc()),
    index('webhook_deliveries_account_created_idx').on(t.accountId, t.createdAt),
  ],
);

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

// ── the demo seed ───────────────────────────────────────────────────────────────────────────

// One row per account the dev-only demo seed (worker/dev/demo-seed.ts) has written a week of
// history into: inserted before it starts, so a second seed (or two at once) writes nothing.
export const demoSeeds = pgTable('demo_seeds', {
  accountId: uuid('account_id')
    .primaryKey()
    .references(() => accounts.id),
  startedAt: tz('started_at').notNull().defaultNow(),
  finishedAt: tz('finished_at'),
  /** What was made (counts and ids), as the seed answered. */
  summary: jsonb('summary'),
});

// What each account used, per UTC day (DESIGN "Usage and cost"): the account hub counts in memory
// and adds its counts here at most once a minute, one upsert per day touched. No foreign key to
// accounts: a hub only exists for an account that has used the API, and a flush must never be
// refused for good.
const counter = (name: string) => bigint(name, { mode: 'number' }).notNull().default(0);
export const usageDaily = pgTable(
  'usage_daily',
  {
    accountId: uuid('account_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    eventsPublished: counter('events_published'),
    deliveries: counter('deliveries'),
    runsStarted: counter('runs_started'),
    nodesExecuted: counter('nodes_executed'),
    llmPromptTokens: counter('llm_prompt_tokens'),
    llmCompletionTokens: counter('llm_completion_tokens'),
    webhookDeliveries: counter('webhook_deliveries'),
    hubWakeups: counter('hub_wakeups'),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.day] })],
);
export type UsageDailyRow = typeof usageDaily.$inferSelect;
