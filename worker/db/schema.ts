import { sql } from 'drizzle-orm';
import {
  bigint,
  date,
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
import type { AiAssessmentJson } from '../contract/events';
import {
  AI_STATUSES,
  HANDOFF_INTENTS,
  HANDOFF_STATUSES,
  ROLES,
  RUN_STATUSES,
  SEVERITIES,
  STEP_OUTCOMES,
} from '../contract/statuses';

// The one drizzle schema module: every table Switchboard keeps in Postgres.
// Migrations in migrations/ are generated from this file by drizzle-kit.

// Millisecond precision on purpose: list cursors carry a JavaScript Date, and a microsecond
// column let rows within one millisecond of a page's last item fall between pages.
const createdAt = () =>
  timestamp('created_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow();

export const roleEnum = pgEnum('user_role', ROLES);
export const stepOutcomeEnum = pgEnum('step_outcome', STEP_OUTCOMES);

export const accounts = pgTable('accounts', {
  id: uuid('id').primaryKey(),
  createdAt: createdAt(),
});

// Users are provisioned from token claims; name and role follow the latest token seen.
export const users = pgTable(
  'users',
  {
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    role: roleEnum('role').notNull(),
    createdAt: createdAt(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.id] })],
);

export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id),
    createdBy: uuid('created_by').notNull(),
    title: text('title').notNull(),
    problemSummary: text('problem_summary').notNull(),
    customer: text('customer'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('sessions_account_created_idx').on(t.accountId, t.createdAt.desc(), t.id.desc())],
);

export const sessionSteps = pgTable(
  'session_steps',
  {
    id: uuid('id').primaryKey().defaultRandom(),
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

// The stored assessment is exactly the one the contract publishes.
export type AiAssessment = AiAssessmentJson;

export const handoffs = pgTable(
  'handoffs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id),
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
    pickedUpAt: timestamp('picked_up_at', { withTimezone: true, mode: 'date' }),
    closedBy: uuid('closed_by'),
    closedAt: timestamp('closed_at', { withTimezone: true, mode: 'date' }),
    aiStatus: aiStatusEnum('ai_status').notNull().default('pending'),
    aiAssessment: jsonb('ai_assessment').$type<AiAssessment>(),
    aiError: text('ai_error'),
    // Bumped by every change; clients keep the card with the higher version.
    version: integer('version').notNull().default(1),
    idempotencyKey: text('idempotency_key'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('handoffs_account_created_idx').on(t.accountId, t.createdAt.desc(), t.id.desc()),
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
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id').notNull(),
    topic: text('topic').notNull(),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: createdAt(),
    publishedAt: timestamp('published_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('outbox_pending_idx').on(t.createdAt).where(sql`${t.publishedAt} is null`)],
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
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id),
    name: text('name').notNull(),
    version: integer('version').notNull(),
    createdBy: uuid('created_by').notNull(),
    schema: jsonb('schema').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('graphs_account_name_version_idx').on(t.accountId, t.name, t.version),
    index('graphs_account_created_idx').on(t.accountId, t.createdAt.desc(), t.id.desc()),
  ],
);

export const runStatusEnum = pgEnum('run_status', RUN_STATUSES);

// The system of record of a run. The hub's SQLite registry is authoritative while the run is
// live; it copies each transition here with `hub_version`, and a write only lands when it is
// newer than what is stored, so retried or reordered writes never move a run backwards.
export const runs = pgTable(
  'runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id),
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
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date' }),
    activeMs: integer('active_ms'),
    durationMs: integer('duration_ms'),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('runs_account_created_idx').on(t.accountId, t.createdAt.desc(), t.id.desc()),
    index('runs_graph_idx').on(t.graphId),
  ],
);

export type GraphRow = typeof graphs.$inferSelect;
export type RunRow = typeof runs.$inferSelect;

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
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.day] })],
);
export type UsageDailyRow = typeof usageDaily.$inferSelect;
