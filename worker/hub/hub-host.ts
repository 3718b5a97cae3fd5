import { DurableObject } from 'cloudflare:workers';
import { log, safeErrorMessage } from '../lib/log';
import { type AppendResult, createEventLogTables, EventLog } from './event-log';
import type {
  Hub,
  HubEvent,
  HubModule,
  JobHandler,
  LoggedEvent,
  PublishResult,
  SubscriberInfo,
  UsageCounter,
} from './hub-module';
import { migrateHubSchema } from './hub-schema';
import { backoffMs, createJobTable, type Job, JobQueue } from './job-queue';
import { REPLAY_MORE, REPLAY_MORE_REQUEST } from './replay-protocol';

const JOB_CONCURRENCY = 8;
const DEFAULT_PAGE_BYTES = 256 * 1024;
const MAX_PAGE_BYTES = 512 * 1024;

/** The host's own schema: the event log and the job table. */
const HOST_SCHEMA = {
  name: 'host',
  migrations: [
    (sql: SqlStorage) => {
      createEventLogTables(sql);
      createJobTable(sql);
    },
  ],
};

/**
 * What the hub remembers about each subscriber socket (as its attachment, so it survives
 * hibernation): where its replay has reached, whether it is live yet, and who it is.
 */
interface Subscriber {
  topic: string;
  cursor: number;
  live: boolean;
  pageBytes: number;
  userId?: string | null;
  name?: string | null;
}

const infoOf = (sub: Subscriber): SubscriberInfo => ({
  topic: sub.topic,
  userId: sub.userId ?? null,
  name: sub.name ?? null,
});

/**
 * A Durable Object that hosts domain modules and knows nothing of any domain. It owns:
 * - the event log (per-topic, sequential ids, de-duplicated by key) and its subscribers, held on
 *   hibernatable WebSockets tagged by topic, with paged replay before going live;
 * - the job table and the one alarm that drains it: every timer of every module is a row;
 * - one versioned SQLite schema, migrated before anything else runs.
 * The concrete hub (worker/account-hub.ts) lists its modules and exposes their RPC calls.
 */
export class HubHost<Modules extends Record<string, HubModule>> extends DurableObject<Env> {
  protected readonly modules: Modules;
  private readonly host: Hub;
  private readonly events: EventLog;
  private readonly jobs: JobQueue;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly moduleList: HubModule[];
  /** Usage since the counters were last taken (see `takeUsage`). */
  private usage = new Map<UsageCounter, number>();

  constructor(ctx: DurableObjectState, env: Env, createModules: (hub: Hub) => Modules) {
    super(ctx, env);
    this.events = new EventLog(ctx.storage.sql);
    this.jobs = new JobQueue(ctx.storage.sql);
    this.host = {
      env,
      storage: ctx.storage,
      sql: ctx.storage.sql,
      events: this.events,
      jobs: this.jobs,
      name: ctx.id.name ?? ctx.id.toString(),
      publish: (events) => this.publishEvents(events),
      log: (event, now) => this.logEvent(event, now),
      broadcast: (topic, frame) => this.broadcast(topic, frame),
      subscriberCount: (topic) => this.subscriberCount(topic),
      armAlarm: () => this.armAlarm(),
      count: (counter, n = 1) => this.count(counter, n),
      waitUntil: (work) => ctx.waitUntil(work),
    };
    // Each construction is a wake-up: from hibernation, eviction or a first request.
    this.count('hub_wakeups', 1);
    this.modules = createModules(this.host);
    this.moduleList = Object.values(this.modules);
    for (const module of this.moduleList) {
      for (const [kind, handler] of Object.entries(module.jobs ?? {})) {
        if (this.handlers.has(kind)) throw new Error(`job kind "${kind}" is claimed by two hub modules`);
        this.handlers.set(kind, handler);
      }
    }
    ctx.blockConcurrencyWhile(async () => {
      migrateHubSchema(ctx.storage, [HOST_SCHEMA, ...this.moduleList]);
      for (const module of this.moduleList) await module.recover?.();
    });
  }

  // ── publishing ────────────────────────────────────────────────────────────────────────────

  /**
   * Logs each event and sends it to the topic's subscribers; an event whose key was seen before
   * is neither logged nor sent again. (`accountId` is the hub's own name; callers still pass it.)
   */
  async publish(_accountId: string, events: HubEvent[]): Promise<PublishResult> {
    return this.publishEvents(events);
  }

  private async publishEvents(events: HubEvent[]): Promise<PublishResult> {
    const now = Date.now();
    const results = this.ctx.storage.transactionSync(() =>
      events.map((e) => ({ ...this.logEvent(e, now), topic: e.topic })),
    );
    for (const r of results) if (!r.duplicate) this.broadcast(r.topic, r.frame);
    await this.armAlarm();
    return { ids: results.map((r) => r.id), duplicates: results.filter((r) => r.duplicate).length };
  }

  /** Appends one event and tells the modules, inside the caller's transaction. */
  private logEvent(e: HubEvent, now: number): AppendResult {
    const appended = this.events.append(e.topic, e.type, e.data, e.key, now);
    if (!appended.duplicate) {
      this.count('events_published', 1);
      const logged: LoggedEvent = { ...e, id: appended.id, at: now };
      for (const module of this.moduleList) module.onPublished?.(logged);
    }
    return appended;
  }

  /**
   * Sends a frame to the topic's live subscribers. One still catching up is skipped: a logged
   * frame is already in the log and its next page carries it, in order.
   */
  private broadcast(topic: string, frame: string): void {
    for (const ws of this.ctx.getWebSockets(topic)) {
      const sub = ws.deserializeAttachment() as Subscriber | null;
      if (sub && !sub.live) continue;
      this.send(ws, frame);
    }
  }

  private send(ws: WebSocket, text: string): void {
    try {
      ws.send(text);
      this.count('deliveries', 1);
    } catch {
      // A frame that cannot be sent must not leave a silent gap: close, and the client resumes
      // by Last-Event-ID.
      try {
        ws.close(1011, 'send failed');
      } catch {
        // already closed
      }
    }
  }

  /**
   * Sends the subscriber's next replay page. At the end of the log it goes live; otherwise the
   * page ends with the `more` marker and the Worker asks for the next page once its client has
   * drained enough, so a replay is paced by the client instead of loaded whole into memory.
   */
  private sendPage(ws: WebSocket, sub: Subscriber): void {
    const page = this.events.page(sub.topic, sub.cursor, sub.pageBytes);
    ws.serializeAttachment({ ...sub, cursor: page.lastId, live: page.done } satisfies Subscriber);
    this.send(ws, page.done ? page.text : `${page.text}${REPLAY_MORE}`);
    if (page.done) this.wentLive(ws, sub);
  }

  /**
   * The subscriber has every logged event and receives broadcasts from now on: the modules'
   * `onSubscribe` hooks run here, so what they send (a presence snapshot, an llm node's text so
   * far) follows the replay and precedes every live frame, with nothing skipped in between.
   */
  private wentLive(ws: WebSocket, sub: Subscriber): void {
    const info = infoOf(sub);
    for (const module of this.moduleList) module.onSubscribe?.(info, (frame) => this.send(ws, frame));
  }

  lastEventId(topic: string): number {
    return this.events.lastId(topic);
  }

  subscriberCount(topic: string): number {
    return this.ctx.getWebSockets(topic).length;
  }

  private count(counter: UsageCounter, n: number): void {
    this.usage.set(counter, (this.usage.get(counter) ?? 0) + n);
  }

  /** The counters since the last call, which resets them (for the usage roll-up). */
  takeUsage(): Partial<Record<UsageCounter, number>> {
    const taken = Object.fromEntries(this.usage);
    this.usage = new Map();
    return taken;
  }

  // ── subscribing ───────────────────────────────────────────────────────────────────────────

  /**
   * WebSocket upgrades only (everything else is RPC). Replay and accept happen in one synchronous
   * stretch, so no publish can fall between them: no gap, no duplicate.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    const url = new URL(request.url);
    const topic = url.searchParams.get('topic');
    const afterParam = url.searchParams.get('after');
    const pageParam = url.searchParams.get('page');
    if (
      !topic ||
      (afterParam !== null && !/^\d+$/.test(afterParam)) ||
      (pageParam !== null && !/^\d+$/.test(pageParam))
    ) {
      return new Response('topic, and numeric after and page, are required', { status: 400 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [topic]);
    const base = {
      topic,
      pageBytes: Math.min(MAX_PAGE_BYTES, Math.max(1024, Number(pageParam ?? DEFAULT_PAGE_BYTES))),
      userId: url.searchParams.get('user'),
      name: url.searchParams.get('name'),
    };
    const lastId = this.events.lastId(topic);
    if (afterParam === null) {
      const sub: Subscriber = { ...base, cursor: lastId, live: true };
      server.serializeAttachment(sub);
      this.wentLive(server, sub);
    } else {
      const after = Number(afterParam);
      const point = this.events.resumePoint(topic, after);
      if (point.kind === 'reset') {
        const sub: Subscriber = { ...base, cursor: point.lastId, live: true };
        server.serializeAttachment(sub);
        server.send(point.frame);
        this.wentLive(server, sub);
      } else {
        // Goes live (and runs the hooks) with the replay's last page.
        this.sendPage(server, { ...base, cursor: after, live: false });
      }
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The only message a subscriber sends: `more`, for the next replay page. */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (message !== REPLAY_MORE_REQUEST) return;
    const sub = ws.deserializeAttachment() as Subscriber | null;
    if (sub && !sub.live) this.sendPage(ws, sub);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
    this.unsubscribed(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.unsubscribed(ws);
  }

  private unsubscribed(ws: WebSocket): void {
    const sub = ws.deserializeAttachment() as Subscriber | null;
    if (!sub) return;
    // Once per socket: close and error may both arrive.
    ws.serializeAttachment(null);
    for (const module of this.moduleList) module.onUnsubscribe?.(infoOf(sub));
  }

  // ── jobs ──────────────────────────────────────────────────────────────────────────────────

  private async armAlarm(): Promise<void> {
    const next = this.jobs.nextRunAt();
    if (next === undefined) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }

  /**
   * Drains due jobs; each records its own completion or retry, so a re-run is harmless. They run
   * side by side: a slow one (an LLM call, a Postgres that hangs until its timeout) must not hold
   * back a run's deadline that is due in the same alarm. Re-arms for whatever is left.
   */
  override async alarm(): Promise<void> {
    const due = this.jobs.due(Date.now());
    // A few at a time: each may hold a database connection.
    const worker = async () => {
      for (let job = due.shift(); job; job = due.shift()) await this.runJob(job);
    };
    await Promise.all(Array.from({ length: JOB_CONCURRENCY }, worker));
    const next = this.jobs.nextRunAt();
    if (next !== undefined) await this.ctx.storage.setAlarm(Math.max(next, Date.now() + 10));
  }

  private async runJob(job: Job): Promise<void> {
    const handler = this.handlers.get(job.kind);
    if (!handler) {
      log('warn', 'unknown hub job dropped', { kind: job.kind, id: job.id });
      this.jobs.complete(job.id);
      return;
    }
    try {
      await handler.run(job);
    } catch (err) {
      log('error', 'hub job failed', { kind: job.kind, id: job.id, err });
      const delay = handler.retryDelayMs?.(job.attempts) ?? backoffMs(job.attempts);
      this.jobs.retry(job.id, Date.now() + delay, safeErrorMessage(err));
    }
  }
}
