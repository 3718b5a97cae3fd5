import { DurableObject } from 'cloudflare:workers';
import { log, safeErrorMessage } from '../lib/log';
import { type AppendResult, checkFrameSize, createEventLogTables, EventLog } from './event-log';
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
/**
 * Due jobs taken per alarm; what is left runs in the next one, a few milliseconds later. A
 * thousand timers due at once fit in one alarm (the next alarm would wait for this one's
 * slowest task).
 */
const DUE_PER_ALARM = 1_000;
/** Jobs of a kind with `runBatch` handed over at once (e.g. one Postgres transaction). */
const JOB_BATCH_SIZE = 100;
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

/** Every subscriber socket is also tagged with its user, so the hub can count a user's streams. */
const userTag = (userId: string) => `user:${userId}`;

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
      subscribers: (topic) => this.subscribersOf(topic),
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
    try {
      // Logged frames were checked when logged; this holds ephemeral ones to the same bound.
      checkFrameSize('ephemeral', frame);
    } catch (err) {
      log('error', 'frame over the size limit not sent', { topic, err });
      return;
    }
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

  private subscribersOf(topic: string): SubscriberInfo[] {
    const out: SubscriberInfo[] = [];
    for (const ws of this.ctx.getWebSockets(topic)) {
      const sub = ws.deserializeAttachment() as Subscriber | null;
      // The same subscribers the hooks heard of: the live ones.
      if (sub?.live) out.push(infoOf(sub));
    }
    return out;
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
   * stretch, so no publish can fall between them: no gap, no duplicate. A user who already holds
   * `max_per_user` sockets (MAX_STREAMS_PER_USER, sent by the Worker) is refused with a 429.
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
    const userId = url.searchParams.get('user');
    const maxPerUser = Number(url.searchParams.get('max_per_user') ?? Number.POSITIVE_INFINITY);
    // Counted and accepted in one synchronous stretch: two opens at once cannot both take the last slot.
    if (userId !== null && this.ctx.getWebSockets(userTag(userId)).length >= maxPerUser) {
      return new Response('too many open streams for this user', { status: 429 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, userId === null ? [topic] : [topic, userTag(userId)]);
    const base = {
      topic,
      pageBytes: Math.min(MAX_PAGE_BYTES, Math.max(1024, Number(pageParam ?? DEFAULT_PAGE_BYTES))),
      userId,
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
    // The hooks heard of it only if it went live (see wentLive): a socket closed mid-replay was
    // never announced, so it is not withdrawn either.
    if (!sub.live) return;
    for (const module of this.moduleList) module.onUnsubscribe?.(infoOf(sub));
  }

  // ── jobs ──────────────────────────────────────────────────────────────────────────────────

  private async armAlarm(): Promise<void> {
    const next = this.jobs.nextRunAt();
    if (next === undefined) return;
    const current = await this.ctx.storage.getAlarm();
    // A job already overdue (made due by hand, or left over by a batch) runs now.
    if (current === null || current > next) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  /**
   * Drains due jobs; each records its own completion or retry, so a re-run is harmless. They run
   * side by side: a slow one (an LLM call, a Postgres that hangs until its timeout) must not hold
   * back a run's deadline that is due in the same alarm. Re-arms for whatever is left.
   */
  override async alarm(): Promise<void> {
    const due = this.jobs.due(Date.now(), DUE_PER_ALARM);
    // Jobs of a kind that runs in batches go in chunks, the others one by one; earliest first.
    const tasks: { at: number; run: () => Promise<void> }[] = [];
    const batched = new Map<JobHandler, Job[]>();
    for (const job of due) {
      const handler = this.handlers.get(job.kind);
      if (handler?.runBatch) batched.set(handler, [...(batched.get(handler) ?? []), job]);
      else tasks.push({ at: job.runAt, run: () => this.runJob(job) });
    }
    for (const [handler, jobs] of batched) {
      for (let i = 0; i < jobs.length; i += JOB_BATCH_SIZE) {
        const chunk = jobs.slice(i, i + JOB_BATCH_SIZE);
        tasks.push({ at: chunk[0]?.runAt ?? 0, run: () => this.runBatch(handler, chunk) });
      }
    }
    tasks.sort((a, b) => a.at - b.at);
    // A few at a time: each may hold a database connection.
    const worker = async () => {
      for (let task = tasks.shift(); task; task = tasks.shift()) await task.run();
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
      this.retryLater(handler, job, err);
    }
  }

  private async runBatch(handler: JobHandler, jobs: Job[]): Promise<void> {
    try {
      await handler.runBatch?.(jobs);
    } catch (err) {
      log('error', 'hub job batch failed', { kind: jobs[0]?.kind, jobs: jobs.length, err });
      for (const job of jobs) this.retryLater(handler, job, err);
    }
  }

  /** The next attempt of a failed job, unless it was re-armed while it ran (that one stands). */
  private retryLater(handler: JobHandler, job: Job, err: unknown): void {
    const delay = handler.retryDelayMs?.(job.attempts) ?? backoffMs(job.attempts);
    this.jobs.retry(job.id, Date.now() + delay, safeErrorMessage(err), job);
  }
}
