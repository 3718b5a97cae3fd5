import type { Context } from 'hono';
import { TERMINAL_RUN_EVENTS } from '../contract/events';
import { isTerminalStatus } from '../contract/statuses';
import type { Db } from '../db/client';
import type { RunRow } from '../db/schema';
import type { AppEnv } from '../lib/app-env';
import { sseFrame } from '../lib/sse-frame';
import { hubStream } from '../streams/hub-stream';
import { type FrameSource, sseResponse } from '../streams/sse-response';
import { currentRunView } from './current-run';
import { runTopic } from './run-types';
import { terminalEventOf } from './run-view';

/** A stream that sends one frame and closes: a finished run's terminal event. */
function oneFrame(frame: string): FrameSource {
  let emit: ((text: string, more: boolean) => void) | undefined;
  let ended: (() => void) | undefined;
  let closed = false;
  queueMicrotask(() => {
    if (closed) return;
    emit?.(frame, false);
    ended?.();
  });
  return {
    onFrames: (listener) => {
      emit = listener;
    },
    onEnd: (listener) => {
      ended = listener;
    },
    requestMore: () => {},
    close: () => {
      closed = true;
    },
  };
}

/**
 * The run's events as SSE after `after` (from its first event without one). A finished run whose
 * log is gone, or whose client has all of it, gets its terminal event from the record, then the
 * stream closes.
 */
export async function runStream(
  c: Context<AppEnv>,
  db: Db,
  row: RunRow,
  after: number | undefined,
): Promise<Response> {
  const { view, live } = await currentRunView(c.env, db, row, true);
  const from = after ?? 0;
  if (isTerminalStatus(view.status) && (!live || live.last_event_id <= from)) {
    const terminal = terminalEventOf(view);
    const frame = sseFrame(terminal.type, terminal.data, live ? live.last_event_id : undefined);
    const config = c.var.config;
    return sseResponse(oneFrame(frame), {
      retryMs: config.SSE_RETRY_MS,
      keepaliveMs: config.SSE_KEEPALIVE_MS,
      bufferBytes: config.SSE_BUFFER_BYTES,
      closeAfter: TERMINAL_RUN_EVENTS,
    });
  }
  return hubStream(c, runTopic(row.id), from, { closeAfter: TERMINAL_RUN_EVENTS });
}
