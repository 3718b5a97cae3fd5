import type { RunErrorCode } from '../contract/events';
import type { HubRunStatus } from '../contract/statuses';
import type { Graph } from '../graphs/graph-schema';
import type { State } from '../graphs/template';

// The shapes the runs module's parts and its RPC callers share.

/** A finished run's log and registry row are kept this long, then only Postgres has it. */
export const RUN_LOG_RETENTION_MS = 24 * 60 * 60_000;
/** A running run's watchdog: if nothing drives it (the hub restarted), this alarm resumes it. */
export const RUN_WATCHDOG_MS = 60_000;
/**
 * A `run-sync` that fails this many times with an error retrying cannot fix (anything but
 * Postgres being unreachable or briefly unable) is dropped and logged rather than retried forever.
 */
export const RUN_SYNC_MAX_ATTEMPTS = 10;
/**
 * What one run's steps may write to its log (kept 24 h in the hub's SQLite). Every
 * `node_completed` carries the whole state, so a loop over a large state would otherwise log
 * up to step limit × state limit; a step that would pass this fails the run with `node_failed`.
 */
export const MAX_RUN_LOG_BYTES = 8 * 1024 * 1024;

const RUN_TOPIC_PREFIX = 'run:';
export const runTopic = (runId: string) => `${RUN_TOPIC_PREFIX}${runId}`;
/** The run a topic belongs to, or null when it is not a run's topic. */
export const runIdOfTopic = (topic: string) =>
  topic.startsWith(RUN_TOPIC_PREFIX) ? topic.slice(RUN_TOPIC_PREFIX.length) : null;

export interface RunLimits {
  perUser: number;
  perAccount: number;
  /** Paused runs the account may hold before a start is refused (MAX_PAUSED_RUNS_PER_ACCOUNT). */
  pausedPerAccount: number;
}

export interface StartRunRequest {
  runId: string;
  accountId: string;
  userId: string;
  graphId: string;
  graphVersion: number;
  graph: Graph;
  input: Record<string, unknown>;
  limits: RunLimits;
  runTimeoutSeconds: number;
  pauseTimeoutSeconds: number;
  /** A rerun: the node to start at (default the graph's entry), and the run it reruns. */
  startAt?: string;
  parentRunId?: string;
  /** Started with an `Idempotency-Key`: the hub arms the pruning of expired keys. */
  idempotencyKey?: boolean;
}

export type LimitRefusal = {
  ok: false;
  reason: 'limit';
  /** Active runs of the user or of the account, or paused runs of the account (starts only). */
  scope: 'user' | 'account' | 'paused';
  limit: number;
  retryAfterSeconds: number;
};

export type StartRunResult =
  | { ok: true; status: HubRunStatus }
  | LimitRefusal
  | { ok: false; reason: 'exists'; status: HubRunStatus }
  /** A cancel for this id reached the hub before its start: it never runs. */
  | { ok: false; reason: 'cancelled' };

export type ResumeRunResult =
  | { ok: true; status: 'running' }
  | LimitRefusal
  | { ok: false; reason: 'not_paused'; status: HubRunStatus }
  | { ok: false; reason: 'unknown' };

export type CancelRunResult =
  | { ok: true; status: 'cancelled' }
  | { ok: false; reason: 'ended'; status: HubRunStatus }
  | { ok: false; reason: 'unknown' };

/** The hub's live view of a run, for the status endpoint and the stream. */
export interface RunSnapshot {
  status: HubRunStatus;
  version: number;
  state: State;
  next_node: string;
  steps: number;
  error_code: RunErrorCode | null;
  error_message: string | null;
  paused_node: string | null;
  paused_prompt: string | null;
  started_at: number;
  ended_at: number | null;
  active_ms: number;
  duration_ms: number | null;
  last_event_id: number;
  /** While waiting between two attempts of a node. */
  retry: { node_id: string; attempt: number; next_attempt_at: number } | null;
}

/** What a rerun may start from: the state a finished run had before one of its nodes ran. */
export type RunCheckpointResult =
  | { ok: true; state: Record<string, unknown> }
  /** The hub holds no checkpoint of this node for this run (never reached, or pruned). */
  | { ok: false };

/** A node a run reached, with the state it started from (for the checkpoints endpoint and the site). */
export interface RunCheckpointView {
  node_id: string;
  step: number;
  state: Record<string, unknown>;
  at: number;
}

/** How a run ends: the one argument of the one way a run ends. */
export type Ending =
  | { kind: 'completed'; state: State }
  | { kind: 'error'; status: 'failed' | 'cancelled' | 'timed_out'; code: RunErrorCode; message: string };

/** Ends a run (see RunLifecycle.finish); false when it had already ended. */
export type FinishRun = (runId: string, ending: Ending) => boolean;
