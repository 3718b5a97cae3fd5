import type { RunEvent } from '../contract/events';

/** At most one `node_delta` frame per run in this many milliseconds (DESIGN.md: ≤ 20 a second). */
export const NODE_DELTA_INTERVAL_MS = 50;

type NodeDelta = Extract<RunEvent, { type: 'node_delta' }>['data'];

/** The clock and timer the coalescing runs on; injected so tests drive time themselves. */
export interface DeltaClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: DeltaClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Streaming {
  nodeId: string;
  /** Text already sent to subscribers (what a newcomer gets with `replace: true`). */
  sent: string;
  /** Text received since the last frame. */
  pending: string;
  /** The next frame starts the node's text afresh (a new attempt, or after a restart). */
  replace: boolean;
  lastSentAt: number;
  timer: unknown;
}

/**
 * The streamed text of the `llm` node each run is executing, kept in memory only: deltas are
 * coalesced into at most one frame per run every NODE_DELTA_INTERVAL_MS and sent as ephemeral
 * frames (never logged, no storage write). A new subscriber gets the text sent so far in one
 * `replace` frame; the next frame carries what came since, so it ends up with the whole text.
 */
export class NodeDeltas {
  private readonly runs = new Map<string, Streaming>();

  constructor(
    private readonly send: (runId: string, delta: NodeDelta) => void,
    private readonly clock: DeltaClock = realClock,
    private readonly intervalMs = NODE_DELTA_INTERVAL_MS,
  ) {}

  /** A node attempt starts: whatever was streamed before (a failed attempt) is replaced. */
  begin(runId: string, nodeId: string): void {
    this.end(runId);
    this.runs.set(runId, {
      nodeId,
      sent: '',
      pending: '',
      replace: true,
      lastSentAt: Number.NEGATIVE_INFINITY,
      timer: undefined,
    });
  }

  push(runId: string, nodeId: string, text: string): void {
    if (text === '') return;
    let s = this.runs.get(runId);
    if (!s || s.nodeId !== nodeId) {
      this.begin(runId, nodeId);
      s = this.runs.get(runId) as Streaming;
    }
    s.pending += text;
    if (s.timer !== undefined) return;
    const wait = s.lastSentAt + this.intervalMs - this.clock.now();
    if (wait <= 0) this.flush(runId);
    else s.timer = this.clock.setTimeout(() => this.flush(runId), wait);
  }

  /**
   * The node finished (completed, failed, retrying) or the run stopped: its text is forgotten
   * and what was not sent yet is dropped, since `node_completed` carries the whole output.
   */
  end(runId: string): void {
    const s = this.runs.get(runId);
    if (!s) return;
    if (s.timer !== undefined) this.clock.clearTimeout(s.timer);
    this.runs.delete(runId);
  }

  /** What a subscriber joining now gets first: the node's text sent so far. */
  sofar(runId: string): NodeDelta | undefined {
    const s = this.runs.get(runId);
    if (!s || s.sent === '') return undefined;
    return { node_id: s.nodeId, text: s.sent, replace: true };
  }

  private flush(runId: string): void {
    const s = this.runs.get(runId);
    if (!s) return;
    s.timer = undefined;
    if (s.pending === '') return;
    const delta: NodeDelta = { node_id: s.nodeId, text: s.replace ? s.sent + s.pending : s.pending };
    if (s.replace) delta.replace = true;
    s.sent += s.pending;
    s.pending = '';
    s.replace = false;
    s.lastSentAt = this.clock.now();
    this.send(runId, delta);
  }
}
