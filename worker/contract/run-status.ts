// A run's statuses, shared by the Worker, the hub, the Postgres enum and the site.

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

export const TERMINAL_RUN_STATUSES = [
  'completed',
  'failed',
  'cancelled',
  'timed_out',
] as const satisfies readonly RunStatus[];
export type TerminalRunStatus = (typeof TERMINAL_RUN_STATUSES)[number];

export const LIVE_RUN_STATUSES = ['queued', 'running', 'paused'] as const satisfies readonly RunStatus[];

export const isTerminalStatus = (status: string): status is TerminalRunStatus =>
  (TERMINAL_RUN_STATUSES as readonly string[]).includes(status);
