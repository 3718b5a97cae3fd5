import type { AppendResult, EventLog } from './event-log';
import type { Job, JobQueue } from './job-queue';

// The one interface between the AccountHub host and the domains it hosts (escalations, runs, …).
// The host owns the event log, the subscribers, the job table and the alarm; a module fills in
// the hooks below and is wired to the others in worker/account-hub.ts only.

/** An event to log on a topic, de-duplicated by `key` (the outbox row id for card changes). */
export interface HubEvent {
  key: string;
  topic: string;
  type: string;
  data: unknown;
}

/** An event the log has just stored (never a duplicate), with the id it was given. */
export interface LoggedEvent extends HubEvent {
  id: number;
  at: number;
}

/** What the hub counts for `GET /v1/usage` (DESIGN.md "Usage and cost"); kept in memory. */
export const USAGE_COUNTERS = [
  'events_published',
  'deliveries',
  'runs_started',
  'nodes_executed',
  'llm_prompt_tokens',
  'llm_completion_tokens',
  'webhook_deliveries',
  'hub_wakeups',
] as const;
export type UsageCounter = (typeof USAGE_COUNTERS)[number];

export interface PublishResult {
  ids: number[];
  duplicates: number;
}

/** Who holds a subscription, as the Worker that opened it said (it verified the caller's token). */
export interface SubscriberInfo {
  topic: string;
  userId: string | null;
  name: string | null;
}

/**
 * A job kind the alarm starts without waiting for it (a slow network call): nothing else due in
 * the same alarm, nor a later alarm, waits for it.
 */
export interface BackgroundJobs {
  /**
   * Before it starts, the job's row is moved this far ahead: a hub that dies (or is evicted)
   * before the job settles finds it due again then and runs it again. Longer than a run can take;
   * a run still going here when it ends is not started twice (its lease is extended).
   */
  leaseMs: number;
  /** Jobs of this kind running at once; more that are due stay due until one settles. */
  maxInFlight: number;
}

export interface JobHandler {
  /**
   * Runs a due job. It completes, moves or re-enqueues the job itself; a throw retries it.
   * A background job is given its leased row; once `run` resolves, the host completes that row
   * unless the handler moved, replaced or completed it meanwhile (a throw retries it the same way).
   */
  run(job: Job): Promise<void> | void;
  /** Run in the background, off the alarm (not with `runBatch`). */
  background?: BackgroundJobs;
  /**
   * Runs several due jobs of this kind at once (e.g. one database transaction for a thousand
   * timers that fall due together); used instead of `run` when present. It completes or moves
   * each job it handled and may leave some due for the next alarm; a throw retries them all.
   */
  runBatch?(jobs: Job[]): Promise<void> | void;
  /** Delay before the next attempt after `run` threw (default: 2 s doubling up to 5 min). */
  retryDelayMs?(attempts: number): number;
}

/** One forward-only step of a module's SQLite schema; it runs in a transaction of its own. */
export type HubMigration = (sql: SqlStorage) => void;

export interface HubModule {
  /** Names the module's row in `schema_version`; never renamed. */
  readonly name: string;
  /** `migrations[i]` takes the module's schema from version i to i + 1. Only ever appended to. */
  readonly migrations: readonly HubMigration[];
  /** Once per instance, after every module's migrations, inside `blockConcurrencyWhile`. */
  recover?(): Promise<void> | void;
  /** The job kinds this module runs; a kind belongs to exactly one module. */
  readonly jobs?: Readonly<Record<string, JobHandler>>;
  /** Inside the publishing transaction, for each event the log has just stored. */
  onPublished?(event: LoggedEvent): void;
  /**
   * A subscriber went live: it has been sent every logged event it asked for (its replay) and
   * receives broadcasts from now on. `send` reaches only that socket. A subscriber that closes
   * during a long replay may get `onUnsubscribe` without this.
   */
  onSubscribe?(sub: SubscriberInfo, send: (frame: string) => void): void;
  /** A subscriber's socket closed. */
  onUnsubscribe?(sub: SubscriberInfo): void;
}

/** What a module may use of its host. */
export interface Hub {
  readonly env: Env;
  readonly storage: DurableObjectStorage;
  readonly sql: SqlStorage;
  readonly events: EventLog;
  readonly jobs: JobQueue;
  /** The hub's name: the canonical account UUID it serves. */
  readonly name: string;
  /**
   * Logs each event (ids stored before anything is sent, a repeated key logged once), runs the
   * modules' `onPublished` hooks in the same transaction, then sends the new frames.
   */
  publish(events: HubEvent[]): Promise<PublishResult>;
  /**
   * Logs one event inside the caller's own transaction and runs the `onPublished` hooks for it;
   * the caller broadcasts the frame once its transaction has committed. For a module whose log
   * writes belong to a larger transaction (a run's step and its checkpoint).
   */
  log(event: HubEvent, now: number): AppendResult;
  /** Sends a frame to the topic's live subscribers: a logged frame after its commit, or an ephemeral one. */
  broadcast(topic: string, frame: string): void;
  /** Number of open subscriber sockets on a topic. */
  subscriberCount(topic: string): number;
  /** Who holds each open subscriber socket of a topic (read from the sockets, so also after a wake). */
  subscribers(topic: string): SubscriberInfo[];
  /** Sets the alarm to the earliest due job, if it is not already set earlier. */
  armAlarm(): Promise<void>;
  /** Adds to a usage counter: in memory only, never a storage write per event. */
  count(counter: UsageCounter, n?: number): void;
  /** Keeps the hub alive until `work` settles, off any caller's path. */
  waitUntil(work: Promise<unknown>): void;
}
