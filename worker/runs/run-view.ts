import type { RunErrorCode, RunEvent } from '../contract/events';
import { isTerminalStatus } from '../contract/statuses';
import type { RunRow } from '../db/schema';
import type { RunSnapshot } from './run-types';

// A run as the API shows it: the Postgres record, overlaid with the hub's live view while the
// hub has it, and the terminal event rebuilt from the record once the log is gone.

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

/** A run as the API shows it: the Postgres row, overlaid with the hub's live view when newer. */
export function runJson(row: RunRow, live?: RunSnapshot | null) {
  const useLive = live && live.version > row.hubVersion;
  const status = useLive ? live.status : row.status;
  const terminal = isTerminalStatus(status);
  const errorCode = useLive ? live.error_code : row.errorCode;
  const errorMessage = useLive ? live.error_message : row.errorMessage;
  const pausedNode = useLive ? live.paused_node : row.pausedNode;
  const pausedPrompt = useLive ? live.paused_prompt : row.pausedPrompt;
  const state = (live ? live.state : row.state) ?? row.input;
  const startedAt = useLive ? iso(live.started_at) : (row.startedAt?.toISOString() ?? null);
  const endedAt = useLive ? iso(live.ended_at) : (row.endedAt?.toISOString() ?? null);
  const durationMs = useLive ? live.duration_ms : row.durationMs;
  return {
    id: row.id,
    graph_id: row.graphId,
    graph_version: row.graphVersion,
    started_by: row.startedBy,
    status,
    input: row.input,
    state,
    final_state: status === 'completed' ? state : null,
    error: errorCode ? { code: errorCode, message: errorMessage ?? '' } : null,
    paused: status === 'paused' && pausedNode ? { node_id: pausedNode, prompt: pausedPrompt ?? '' } : null,
    current_node: live ? live.next_node : row.currentNode,
    created_at: row.createdAt.toISOString(),
    started_at: startedAt,
    ended_at: endedAt,
    active_ms: live ? live.active_ms : row.activeMs,
    duration_ms: terminal ? durationMs : null,
    last_event_id: live ? live.last_event_id : null,
    stream_url: `/v1/runs/${row.id}/stream`,
    parent_run_id: row.parentRunId,
    from_node: row.fromNode,
    retry:
      live?.retry && !terminal
        ? {
            node_id: live.retry.node_id,
            attempt: live.retry.attempt,
            next_attempt_at: new Date(live.retry.next_attempt_at).toISOString(),
          }
        : null,
  };
}

/** The terminal event of a finished run, rebuilt from its record (its log may be gone). */
export function terminalEventOf(view: ReturnType<typeof runJson>): RunEvent {
  if (view.status === 'completed') {
    return {
      type: 'graph_completed',
      data: {
        final_state: (view.state ?? {}) as Record<string, unknown>,
        duration_ms: view.duration_ms ?? 0,
      },
    };
  }
  const fallback: Record<string, RunErrorCode> = {
    cancelled: 'cancelled',
    timed_out: 'timeout',
    failed: 'internal',
  };
  return {
    type: 'error',
    data: {
      code: (view.error?.code as RunErrorCode | undefined) ?? fallback[view.status] ?? 'internal',
      message: view.error?.message ?? `run ${view.status}`,
    },
  };
}
