// A Node SSE subscriber for Switchboard's streams: parses frames as they arrive, records ids for
// loss/duplicate/order checks, and (optionally) reconnects with Last-Event-ID like a real client.
import { Agent, type ClientRequest, type IncomingMessage, request } from 'node:http';

export const sseAgent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

export interface SseFrame {
  id?: number;
  event?: string;
  data?: string;
}

export interface SubscriberOptions {
  base: string;
  path: string;
  token: string;
  /** Resume point for the first connection. */
  lastEventId?: number;
  /** Reconnect (with Last-Event-ID) when the stream ends or fails. */
  reconnect?: boolean;
  /** Called for each frame with an event name, with the time it was parsed. */
  onEvent?: (frame: SseFrame, at: number) => void;
}

/**
 * Tracks the sequence it sees: `gaps` counts ids skipped, `duplicates` ids seen again or going
 * backwards. A `reset` frame is recorded (and makes the next id the new baseline).
 */
export class Subscriber {
  lastId: number | undefined;
  firstId: number | undefined;
  received = 0;
  /** Frames with an id (logged events), duplicates left out; `received` also counts ephemeral ones. */
  logged = 0;
  gaps = 0;
  missing: number[] = [];
  duplicates = 0;
  resets = 0;
  connects = 0;
  failedConnects = 0;
  statuses = new Map<number, number>();
  errors: string[] = [];
  private req: ClientRequest | undefined;
  private res: IncomingMessage | undefined;
  private closed = false;
  private buffer = '';
  private resetPending = false;

  constructor(readonly opts: SubscriberOptions) {
    this.lastId = opts.lastEventId;
  }

  /** Resolves once the stream answered 200 (rejects on another status or a network error). */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {
        authorization: `Bearer ${this.opts.token}`,
        accept: 'text/event-stream',
      };
      if (this.lastId !== undefined) headers['last-event-id'] = String(this.lastId);
      this.buffer = '';
      const req = request(`${this.opts.base}${this.opts.path}`, { headers, agent: sseAgent }, (res) => {
        this.statuses.set(res.statusCode ?? 0, (this.statuses.get(res.statusCode ?? 0) ?? 0) + 1);
        if (res.statusCode !== 200) {
          res.resume();
          this.failedConnects++;
          reject(new Error(`stream answered ${res.statusCode}`));
          return;
        }
        this.connects++;
        this.res = res;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.feed(chunk));
        const ended = () => {
          if (this.res === res) this.res = undefined;
          if (!this.closed && this.opts.reconnect) this.scheduleReconnect();
        };
        res.on('end', ended);
        res.on('error', () => {});
        res.on('close', ended);
        resolve();
      });
      req.on('error', (err) => {
        this.failedConnects++;
        this.errors.push(String(err));
        if (this.errors.length > 20) this.errors.shift();
        reject(err);
      });
      this.req = req;
      req.end();
    });
  }

  private reconnecting = false;
  private scheduleReconnect(attempt = 0): void {
    if (this.reconnecting || this.closed) return;
    this.reconnecting = true;
    const delay = Math.min(2_000, 100 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random());
    setTimeout(() => {
      this.reconnecting = false;
      if (this.closed) return;
      this.open().catch(() => this.scheduleReconnect(attempt + 1));
    }, delay);
  }

  /** Drops the connection abruptly, as a flaky network would; reconnects if so configured. */
  drop(): void {
    this.req?.destroy();
    this.res?.destroy();
  }

  get connected(): boolean {
    return this.res !== undefined;
  }

  close(): void {
    this.closed = true;
    this.drop();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let idx = this.buffer.indexOf('\n\n');
    if (idx === -1) return;
    const at = performance.now();
    while (idx !== -1) {
      const raw = this.buffer.slice(0, idx);
      this.buffer = this.buffer.slice(idx + 2);
      this.frame(raw, at);
      idx = this.buffer.indexOf('\n\n');
    }
  }

  private frame(raw: string, at: number): void {
    const frame: SseFrame = {};
    for (const line of raw.split('\n')) {
      if (line.startsWith('id: ')) frame.id = Number(line.slice(4));
      else if (line.startsWith('event: ')) frame.event = line.slice(7);
      else if (line.startsWith('data: ')) frame.data = line.slice(6);
    }
    if (!frame.event) return; // retry: and keepalive comments
    if (frame.event === 'reset') {
      this.resets++;
      this.resetPending = true;
      this.lastId = frame.id;
      this.opts.onEvent?.(frame, at);
      return;
    }
    if (frame.id !== undefined) {
      if (this.firstId === undefined) this.firstId = frame.id;
      if (this.lastId !== undefined && !this.resetPending) {
        if (frame.id <= this.lastId) {
          this.duplicates++;
          return;
        }
        if (frame.id !== this.lastId + 1) {
          this.gaps += frame.id - this.lastId - 1;
          if (this.missing.length < 20) this.missing.push(this.lastId + 1);
        }
      }
      this.resetPending = false;
      this.lastId = frame.id;
      this.logged++;
    }
    this.received++;
    this.opts.onEvent?.(frame, at);
  }
}
