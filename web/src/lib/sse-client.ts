import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { failureOf } from './api';
import { type BackoffOptions, DEFAULT_BACKOFF, isTransientStatus, retryDelay } from './backoff';

// An EventSource that can send headers: fetch + ReadableStream + eventsource-parser. It resumes by
// Last-Event-ID after any break, waits a jittered exponential delay between attempts, and
// treats a silent connection (no byte, not even a keepalive, for `idleTimeoutMs`) as broken.
// The delay grows until a connection has proved healthy (an event delivered, or `healthyAfterMs`
// connected), not on any 200: a server that answers 200 and closes at once is not hammered.
// A refusal that names its wait (`Retry-After` on a 429 or 503) is waited at least that long, up
// to the backoff's ceiling: a stream must come back some time, whatever a header says.

export type StreamState =
  /** First connection under way. */
  | 'connecting'
  /** Connected; events arrive as they happen. */
  | 'live'
  /** Connection lost; the next attempt is scheduled. */
  | 'reconnecting'
  /** The server refused the token (401): signing in again is the fix. */
  | 'unauthorized'
  /** The server refused for good (403, 404, other 4xx). */
  | 'failed'
  /** Stopped by the caller or by a terminal event. */
  | 'closed';

export interface StreamStatus {
  state: StreamState;
  /** Reconnect attempts since the last good connection. */
  attempt: number;
  /** When `reconnecting`: milliseconds until the next attempt. */
  retryInMs?: number;
  /** What went wrong last, in words. */
  error?: string;
}

export interface StreamEventMessage {
  type: string;
  data: unknown;
  id: string | undefined;
}

export interface EventStreamOptions {
  url: string;
  /** Called before each attempt, so a renewed token is picked up. */
  headers?: () => Record<string, string>;
  /** Resume point for the first connection. */
  lastEventId?: string | undefined;
  /** Return 'stop' to close the stream after this event (a run's terminal event). */
  onEvent: (event: StreamEventMessage) => undefined | 'stop';
  onStatus?: (status: StreamStatus) => void;
  fetch?: typeof fetch;
  backoff?: BackoffOptions;
  idleTimeoutMs?: number;
  /** A connection open this long without a break counts as healthy and resets the backoff. */
  healthyAfterMs?: number;
  random?: () => number;
}

export const DEFAULT_HEALTHY_AFTER_MS = 30_000;

export class EventStream {
  private lastId: string | undefined;
  private attempt = 0;
  private stopped = false;
  private abort: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wakeUp: (() => void) | undefined;
  private status: StreamStatus = { state: 'connecting', attempt: 0 };
  private running: Promise<void> | undefined;

  constructor(private readonly opts: EventStreamOptions) {
    this.lastId = opts.lastEventId;
  }

  get lastEventId(): string | undefined {
    return this.lastId;
  }

  get current(): StreamStatus {
    return this.status;
  }

  /** Starts the connect loop; resolves when the stream is closed for good. */
  start(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort?.abort();
    this.wakeUp?.();
    this.setStatus({ state: 'closed', attempt: this.attempt });
  }

  /** Drop the current connection (or the wait) and connect again now: e.g. when the browser is back online. */
  reconnectNow(): void {
    this.attempt = 0;
    if (this.wakeUp) this.wakeUp();
    else this.abort?.abort();
  }

  private setStatus(status: StreamStatus) {
    if (this.stopped && status.state !== 'closed') return;
    this.status = status;
    this.opts.onStatus?.(status);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const outcome = await this.connectOnce();
      if (this.stopped) break;
      if (outcome.kind === 'fatal') {
        this.setStatus({ state: outcome.state, attempt: this.attempt, error: outcome.error });
        this.stopped = true;
        return;
      }
      const delay = retryDelay(
        this.attempt,
        outcome.waitMs,
        this.opts.backoff ?? DEFAULT_BACKOFF,
        this.opts.random,
      );
      this.attempt += 1;
      this.setStatus({
        state: 'reconnecting',
        attempt: this.attempt,
        retryInMs: delay,
        error: outcome.error,
      });
      await this.sleep(delay);
    }
    this.status = { state: 'closed', attempt: this.attempt };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      this.timer = setTimeout(done, ms);
    });
  }

  private async connectOnce(): Promise<
    | { kind: 'retry'; error: string; waitMs?: number | undefined }
    | { kind: 'fatal'; state: 'unauthorized' | 'failed'; error: string }
  > {
    const abort = new AbortController();
    this.abort = abort;
    const headers: Record<string, string> = { accept: 'text/event-stream', ...this.opts.headers?.() };
    if (this.lastId !== undefined) headers['last-event-id'] = this.lastId;
    let idle: ReturnType<typeof setTimeout> | undefined;
    let healthy: ReturnType<typeof setTimeout> | undefined;
    const idleTimeout = this.opts.idleTimeoutMs ?? 45_000;
    /** The connection proved itself: the next break starts the backoff from the beginning. */
    const markHealthy = () => {
      clearTimeout(healthy);
      if (this.attempt === 0 || this.abort !== abort) return;
      this.attempt = 0;
      this.setStatus({ state: 'live', attempt: 0 });
    };
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => abort.abort(new Error('no data or keepalive in time')), idleTimeout);
    };
    try {
      armIdle();
      const res = await (this.opts.fetch ?? fetch)(this.opts.url, {
        headers,
        signal: abort.signal,
        cache: 'no-store',
      });
      if (!res.ok) {
        const { message: error, retryAfterMs } = await failureOf(res);
        if (res.status === 401) return { kind: 'fatal', state: 'unauthorized', error };
        if (!isTransientStatus(res.status)) return { kind: 'fatal', state: 'failed', error };
        // A refusal that names its wait (429 over the stream limit, 503 with Retry-After) gets it.
        return { kind: 'retry', error, waitMs: retryAfterMs };
      }
      if (!res.body) return { kind: 'retry', error: 'the response has no body' };
      let stopAfter = false;
      const parser = createParser({
        onEvent: (msg: EventSourceMessage) => {
          if (stopAfter || this.stopped) return;
          if (msg.id !== undefined) this.lastId = msg.id;
          markHealthy();
          let data: unknown = msg.data;
          try {
            data = JSON.parse(msg.data);
          } catch {
            // not JSON: hand over the text
          }
          if (this.opts.onEvent({ type: msg.event ?? 'message', data, id: msg.id }) === 'stop')
            stopAfter = true;
        },
      });
      this.setStatus({ state: 'live', attempt: this.attempt });
      healthy = setTimeout(markHealthy, this.opts.healthyAfterMs ?? DEFAULT_HEALTHY_AFTER_MS);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          armIdle();
          parser.feed(value);
          if (stopAfter) {
            this.stop();
            break;
          }
        }
      } finally {
        reader.cancel().catch(() => {});
      }
      return { kind: 'retry', error: 'the server closed the stream' };
    } catch (err) {
      const reason = abort.signal.aborted ? abort.signal.reason : err;
      return { kind: 'retry', error: reason instanceof Error ? reason.message : String(reason ?? 'aborted') };
    } finally {
      clearTimeout(idle);
      clearTimeout(healthy);
      if (this.abort === abort) this.abort = undefined;
    }
  }
}
