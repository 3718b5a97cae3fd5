import { getConfig } from '../config';
import { getOrCreate } from '../lib/get-or-create';
import { log, safeErrorMessage } from '../lib/log';
import { type AppendResult, checkFrameSize, createEventLogTables, EventLog } from './event-log';
import type {
  BackgroundJobs,
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
import { backoffMs, createJobTable, indexJobsByKind, type Job, JobQueue } from './job-queue';
import { createRelayTable, RelayFanout } from './relay-fanout';
import {
  RELAY_HEADER,
  type RelayJoin,
  type RelayJoinResult,
  type RelayPageResult,
  type RelayStart,
} from './relay-protocol';
import { REPLAY_MORE } from './replay-protocol';
import {
  FanoutQueue,
  frameId,
  type Member,
  type OutFrame,
  type Subscriber,
  sendOrClose,
} from './socket-index';
import { clampPageBytes, parseSubscribeRequest } from './subscribe-request';
import { SubscriberHost } from './subscriber-host';
import { USAGE_FLUSH_JOB, type UsageByDay, UsageMeter, type UsageSink } from './usage-meter';

const JOB_CONCURRENCY = 8;
/**
 * Due jobs taken per alarm; what is left runs in the next one, a few milliseconds later. A
 * thousand timers due at once fit in one alarm (the next alarm would wait for this one's
 * slowest task).
 */
const DUE_PER_ALARM = 1_000;
/** Jobs of a kind with `runBatch` handed over at once (e.g. one Postgres transaction). */
const JOB_BATCH_SIZE = 100;

/** Every subscriber socket is also tagged with its user, so the hub can count a user's streams. */
const userTag = (userId: string) => `user:${userId}`;

/** How long a relay slot handed to a subscriber counts as taken before the relay registers it. */
const RESERVATION_MS = 10_000;

/** The host's own schema: the event log, the job table, the relayed subscribers. */
const HOST_SCHEMA = {
  name: 'host',
  migrations: [
    (sql: SqlStorage) => {
      createEventLogTables(sql);
      createJobTable(sql);
    },
    createRelayTable,
    // The per-user stream cap counts a user's relayed streams on every open.
    (sql: SqlStorage) =>
      sql.exec('create index if not exists relay_subscribers_user on relay_subscribers (user_id)'),
    indexJobsByKind,
  ],
};

/** What the concrete hub passes besides its modules. */
export interface HubHostOptions {
  /** Where usage counts are flushed (the Postgres roll-up); without one they are only counted. */
  usageSink?: UsageSink;
}

/** What `GET /v1/usage` asks the hub: the live figures and what is counted but not yet flushed. */
export interface HubUsageNow {
  subscribers_now: number;
  hub_storage_bytes: number;
  pending: UsageByDay;
}

const infoOf = (sub: Subscriber): SubscriberInfo => ({
  topic: sub.topic,
  userId: sub.userId ?? null,
  name: sub.name ?? null,
});

/**
 * A Durable Object that hosts domain modules and knows nothing of any domain. It owns:
 * - the event log (per-topic, sequential ids, de-duplicated by key) and its subscribers, held on
 *   hibernatable WebSockets tagged by topic, indexed in memory (rebuilt from their attachments on
 *   wake), with paged replay before going live;
 * - past RELAY_FANOUT_THRESHOLD subscribers, relay hubs that hold the rest (worker/hub/relay-hub.ts);
 * - the job table and the one alarm that drains it: every timer of every module is a row;
 * - one versioned SQLite schema, migrated before anything else runs;
 * - the usage counters, flushed to Postgres at most once a minute.
 * The concrete hub (worker/account-hub.ts) lists its modules and exposes their RPC calls.
 */
export class HubHost<Modules extends Record<string, HubModule>> extends SubscriberHost {
  protected readonly modules: Modules;
  private readonly host: Hub;
  private readonly events: EventLog;
  private readonly jobs: JobQueue;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly moduleList: HubModule[];
  /** The hub's own sockets are sent to a slice at a time (see FanoutQueue). */
  private readonly fanout = new FanoutQueue((n) => this.count('deliveries', n));
  private readonly relays: RelayFanout;
  private readonly usage: UsageMeter;
  /** Frames broadcast in this turn, sent together once it ends (see `flush`). */
  private pending: { topic: string; frame: OutFrame }[] = [];
  private flushScheduled = false;
  /** The alarm as last set or read; undefined when unknown (read before the next decision). */
  private alarmAt: number | null | undefined;
  /** Background jobs running in this instance: id → the leased row their settle must match. */
  private readonly inFlight = new Map<string, Job>();
  /** How many background jobs of each kind run now (see `BackgroundJobs.maxInFlight`). */
  private readonly inFlightByKind = new Map<string, number>();
  private backgroundKindsCache: Map<string, BackgroundJobs> | undefined;
  /** Relay slots handed out but not yet registered: relay → expiry times. */
  private readonly reserved = new Map<number, number[]>();

  constructor(
    ctx: DurableObjectState,
    env: Env,
    createModules: (hub: Hub) => Modules,
    options: HubHostOptions = {},
  ) {
    super(ctx, env);
    const name = ctx.id.name ?? ctx.id.toString();
    this.events = new EventLog(ctx.storage.sql);
    this.jobs = new JobQueue(ctx.storage.sql);
    this.usage = new UsageMeter(this.jobs, {
      accountId: name,
      sink: options.usageSink,
      armAlarm: () => void this.armAlarm(),
      waitUntil: (work) => ctx.waitUntil(work),
    });
    this.relays = new RelayFanout(ctx.storage.sql, env, name, {
      unsubscribed: (info) => this.tellUnsubscribed(info),
      count: (counter, n) => this.count(counter, n),
      waitUntil: (work) => ctx.waitUntil(work),
      lastId: (topic) => this.events.lastId(topic),
    });
    this.host = {
      env,
      storage: ctx.storage,
      sql: ctx.storage.sql,
      events: this.events,
      jobs: this.jobs,
      name,
      publish: (events) => this.publishEvents(events),
      log: (event, now) => this.logEvent(event, now),
      broadcast: (topic, frame) => this.broadcast(topic, frame),
      subscribers: (topic) => this.subscribersOf(topic),
      subscriberCount: (topic) => this.subscriberCount(topic),
      armAlarm: () => this.armAlarm(),
      count: (counter, n = 1) => this.count(counter, n),
      waitUntil: (work) => ctx.waitUntil(work),
    };
    // Each construction is a wake-up: from hibernation, eviction or a first request.
    this.count('hub_wakeups', 1);
    this.modules = createModules(this.host);
    this.moduleList = Object.values(this.modules);
    this.handlers.set(USAGE_FLUSH_JOB, { run: () => this.usage.flush() });
    for (const module of this.moduleList) {
      for (const [kind, handler] of Object.entries(module.jobs ?? {})) {
        if (this.handlers.has(kind)) throw new Error(`job kind "${kind}" is claimed twice in the hub`);
        this.handlers.set(kind, handler);
      }
    }
    ctx.blockConcurrencyWhile(async () => {
      migrateHubSchema(ctx.storage, [HOST_SCHEMA, ...this.moduleList]);
      this.alarmAt = await ctx.storage.getAlarm();
      for (const module of this.moduleList) await module.recover?.();
    });
  }

  // ── publishing ────────────────────────────────────────────────────────────────────────────

  /**
   * Logs each event and sends it to the topic's subscribers; an event whose key was seen before
   * is neither logged nor sent again. It answers once the events are in the log: the frames go
   * out right after, so a caller (the Worker's create) is not kept waiting by the fan-out.
   * (`accountId` is the hub's own name; callers still pass it.)
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
   * Queues a frame for the topic's live subscribers. Frames broadcast in one turn go out together
   * at its end (`flush`): one message per socket for the lot, one shared string for every socket.
   * Anything else sent to a socket flushes first, so nothing overtakes a broadcast.
   */
  private broadcast(topic: string, frame: string): void {
    const id = frameId(frame);
    if (id === undefined) {
      try {
        // Logged frames were checked when logged; this holds ephemeral ones to the same bound.
        checkFrameSize('ephemeral', frame);
      } catch (err) {
        log('error', 'frame over the size limit not sent', { topic, err });
        return;
      }
    }
    this.pending.push({ topic, frame: id === undefined ? { text: frame } : { id, text: frame } });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // A macrotask, not a microtask: an RPC caller (the create's publish) gets its answer first.
    setTimeout(() => this.flush(), 0);
  }

  /**
   * Sends the queued frames: once per relay, and to the hub's own live subscribers a slice at a
   * time (a member that went live after a frame was logged got it in its replay page and is
   * skipped for it). `flush` returns with the frames handed over; `flushAll` also drains the
   * slices still queued, before anything else is sent to a socket.
   */
  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const byTopic = new Map<string, OutFrame[]>();
    for (const { topic, frame } of batch) {
      getOrCreate(byTopic, topic, () => [] as OutFrame[]).push(frame);
    }
    for (const [topic, frames] of byTopic) {
      // Relays first: their sockets are handled in their own turns, alongside ours.
      this.relays.enqueue(topic, frames);
      this.fanout.push(this.subs.members(topic), frames);
    }
    this.fanout.kick();
  }

  private flushAll(): void {
    this.flush();
    this.fanout.drain();
  }

  /** Sends to one socket, after any broadcast still queued (so order is kept). */
  private sendOne(ws: WebSocket, text: string): void {
    this.flushAll();
    if (sendOrClose(ws, text)) this.count('deliveries', 1);
  }

  /**
   * Sends the subscriber's next replay page. At the end of the log it goes live; otherwise the
   * page ends with the `more` marker and the Worker asks for the next page once its client has
   * drained enough, so a replay is paced by the client instead of loaded whole into memory.
   */
  private sendPage(member: Member): void {
    this.flushAll();
    const { sub } = member;
    const page = this.events.frames(sub.topic, sub.cursor, sub.pageBytes);
    sub.cursor = page.lastId;
    sub.live = page.done;
    this.subs.save(member);
    const text = page.frames.map((f) => f.text).join('');
    if (sendOrClose(member.ws, page.done ? text : `${text}${REPLAY_MORE}`)) {
      this.count('deliveries', page.frames.length);
    }
    if (page.done) this.wentLive(member);
  }

  /**
   * The subscriber has every logged event and receives broadcasts from now on: the modules'
   * `onSubscribe` hooks run here, so what they send (a presence snapshot, an llm node's text so
   * far) follows the replay and precedes every live frame, with nothing skipped in between.
   */
  private wentLive(member: Member): void {
    const info = infoOf(member.sub);
    for (const module of this.moduleList)
      module.onSubscribe?.(info, (frame) => this.sendOne(member.ws, frame));
  }

  /** Who holds a topic's live subscriptions, here and through relays (what the hooks heard of). */
  private subscribersOf(topic: string): SubscriberInfo[] {
    const own: SubscriberInfo[] = [];
    for (const member of this.subs.members(topic)) if (member.sub.live) own.push(infoOf(member.sub));
    return [...own, ...this.relays.subscribers().filter((s) => s.topic === topic)];
  }

  lastEventId(topic: string): number {
    return this.events.lastId(topic);
  }

  /** Open subscriptions of a topic: the hub's own sockets and those its relays hold. */
  subscriberCount(topic: string): number {
    return this.subs.size(topic) + this.relays.count(topic);
  }

  private count(counter: UsageCounter, n: number): void {
    this.usage.count(counter, n);
  }

  /** For `GET /v1/usage`: subscribers now, the hub's storage, and what is counted but not yet flushed. */
  usageNow(): HubUsageNow {
    return {
      subscribers_now: this.subs.size() + this.relays.count(),
      hub_storage_bytes: this.ctx.storage.sql.databaseSize,
      pending: this.usage.pending(),
    };
  }

  // ── subscribing ───────────────────────────────────────────────────────────────────────────

  /**
   * WebSocket upgrades only (everything else is RPC). Replay and accept happen in one synchronous
   * stretch, so no publish can fall between them: no gap, no duplicate. Past the relay threshold
   * the answer is not a socket but the relay to ask (RELAY_HEADER); the Worker goes there. A user
   * who already holds `max_per_user` streams (MAX_STREAMS_PER_USER, sent by the Worker), here or
   * through relays, is refused with a 429.
   */
  override async fetch(request: Request): Promise<Response> {
    const req = parseSubscribeRequest(request);
    if (req instanceof Response) return req;
    const { topic, after, userId, maxPerUser } = req;
    // Counted and accepted (or handed to a relay) in one synchronous stretch.
    if (
      userId !== null &&
      this.ctx.getWebSockets(userTag(userId)).length + this.relays.countUser(userId) >= maxPerUser
    ) {
      return new Response('too many open streams for this user', { status: 429 });
    }
    const threshold = getConfig(this.env).RELAY_FANOUT_THRESHOLD;
    if (this.subs.size() >= threshold) {
      return new Response(null, {
        status: 200,
        headers: { [RELAY_HEADER]: String(this.chooseRelay(threshold)) },
      });
    }
    this.flushAll();
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, userId === null ? [topic] : [topic, userTag(userId)]);
    const base = { sid: crypto.randomUUID(), topic, pageBytes: req.pageBytes, userId, name: req.name };
    const lastId = this.events.lastId(topic);
    if (after === undefined) {
      this.wentLive(this.subs.add(server, { ...base, cursor: lastId, live: true } satisfies Subscriber));
    } else {
      const point = this.events.resumePoint(topic, after);
      if (point.kind === 'reset') {
        const member = this.subs.add(server, {
          ...base,
          cursor: point.lastId,
          live: true,
        } satisfies Subscriber);
        this.sendOne(server, point.frame);
        this.wentLive(member);
      } else {
        // Goes live (and runs the hooks) with the replay's last page.
        this.sendPage(this.subs.add(server, { ...base, cursor: after, live: false } satisfies Subscriber));
      }
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The relay with room for one more subscriber, counting slots handed out but not yet registered. */
  private chooseRelay(threshold: number): number {
    const now = Date.now();
    for (const [relay, until] of this.reserved) {
      const live = until.filter((t) => t > now);
      if (live.length) this.reserved.set(relay, live);
      else this.reserved.delete(relay);
    }
    const relay = this.relays.choose(threshold, (n) => this.reserved.get(n)?.length ?? 0);
    const list = this.reserved.get(relay) ?? [];
    list.push(now + RESERVATION_MS);
    this.reserved.set(relay, list);
    return relay;
  }

  protected override nextPage(member: Member): void {
    this.sendPage(member);
  }

  protected override left(member: Member): void {
    // The hooks heard of it only if it went live (see wentLive): a socket closed mid-replay was
    // never announced, so it is not withdrawn either.
    if (member.sub.live) this.tellUnsubscribed(infoOf(member.sub));
  }

  private tellUnsubscribed(info: SubscriberInfo): void {
    for (const module of this.moduleList) module.onUnsubscribe?.(info);
  }

  // ── relays (RPC from relay hubs) ─────────────────────────────────────────────────────────

  /**
   * A relay accepted a subscriber: register it, and in the same synchronous stretch say where its
   * stream starts (a replay page, `reset`, or live at the topic's last id). Every frame logged after
   * that id reaches the relay, so the relay's hand-over from replay to live has no gap.
   */
  relayJoin(join: RelayJoin): RelayJoinResult {
    this.flushAll();
    this.relays.register(join);
    const held = this.reserved.get(join.relay);
    if (held?.length) held.shift();
    const lastId = this.events.lastId(join.topic);
    let start: RelayStart = { kind: 'live' };
    if (join.after !== undefined) {
      const point = this.events.resumePoint(join.topic, join.after);
      start =
        point.kind === 'reset'
          ? { kind: 'reset', frame: point.frame }
          : { kind: 'page', page: this.events.frames(join.topic, join.after, join.pageBytes) };
    }
    const frames: string[] = [];
    let joining = true;
    const info: SubscriberInfo = { topic: join.topic, userId: join.userId, name: join.name };
    const send = (frame: string) => {
      if (joining) frames.push(frame);
      else {
        this.flushAll();
        this.relays.sendTo(join.relay, join.sid, join.topic, frame);
      }
    };
    for (const module of this.moduleList) module.onSubscribe?.(info, send);
    joining = false;
    this.count('deliveries', frames.length);
    return { lastId, start, frames };
  }

  /** A relayed subscriber's socket closed. */
  relayLeave(relay: number, sid: string): void {
    const info = this.relays.unregister(relay, sid);
    if (info) this.tellUnsubscribed(info);
  }

  /** A replay page for a relayed subscriber (or a relay filling a gap); `reset` if `after` is gone. */
  relayPage(topic: string, after: number, maxBytes: number): RelayPageResult {
    this.flushAll();
    if (this.events.resumePoint(topic, after).kind === 'reset') return { kind: 'reset' };
    return {
      kind: 'page',
      page: this.events.frames(topic, after, clampPageBytes(maxBytes)),
    };
  }

  // ── jobs ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Sets the alarm to the earliest job if it is not already set earlier. The alarm's time is kept
   * in memory (read once on wake), so a publish that schedules nothing new makes no storage call.
   */
  private async armAlarm(): Promise<void> {
    const now = Date.now();
    const next = this.nextJobAt(now);
    if (next === undefined) return;
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || this.alarmAt > next) {
      // A job already overdue (made due by hand, or left over by a batch) runs now.
      const at = Math.max(next, now);
      this.alarmAt = at;
      await this.ctx.storage.setAlarm(at);
    }
  }

  /**
   * The earliest job the alarm could start. Due jobs of a background kind with every slot taken
   * do not count: they would only wake an alarm that cannot start them (a settle re-arms instead).
   */
  private nextJobAt(now: number): number | undefined {
    return this.jobs.nextRunAt(now, this.fullKinds());
  }

  /** The kinds whose handler runs in the background, with their settings. */
  private get backgroundKinds(): Map<string, BackgroundJobs> {
    this.backgroundKindsCache ??= new Map(
      [...this.handlers].flatMap(([kind, h]) => (h.background ? [[kind, h.background] as const] : [])),
    );
    return this.backgroundKindsCache;
  }

  /** Background kinds with `maxInFlight` jobs running. */
  private fullKinds(): string[] {
    const full: string[] = [];
    for (const [kind, n] of this.inFlightByKind) {
      const max = this.backgroundKinds.get(kind)?.maxInFlight;
      if (max !== undefined && n >= max) full.push(kind);
    }
    return full;
  }

  /**
   * Drains due jobs; each records its own completion or retry, so a re-run is harmless. They run
   * side by side: a slow one (an LLM call, a Postgres that hangs until its timeout) must not hold
   * back a run's deadline that is due in the same alarm. Background jobs (webhook deliveries) are
   * only started: neither this alarm nor the next waits for them. Re-arms for whatever is left.
   */
  override async alarm(): Promise<void> {
    // The alarm that woke us is spent; until it is set again below, none is pending.
    this.alarmAt = null;
    try {
      const now = Date.now();
      // Background kinds are read apart, a slot's worth at most (`maxInFlight` rows, some of which
      // may be running here with a lease run out): a thousand due deliveries with six slots must
      // not be read and parsed by every alarm that can start six.
      for (const kind of this.backgroundKinds.keys()) this.startDueBackground(kind, now);
      const due = this.jobs.due(now, DUE_PER_ALARM, [...this.backgroundKinds.keys()]);
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
    } finally {
      const now = Date.now();
      const next = this.nextJobAt(now);
      if (next !== undefined) {
        const at = Math.max(next, now + 10);
        if (this.alarmAt === null || this.alarmAt > at) {
          this.alarmAt = at;
          await this.ctx.storage.setAlarm(at);
        }
      }
    }
  }

  /** Starts due jobs of a background kind while it has free slots. */
  private startDueBackground(kind: string, now: number): void {
    const handler = this.handlers.get(kind);
    const background = handler?.background;
    if (!handler || !background) return;
    if ((this.inFlightByKind.get(kind) ?? 0) >= background.maxInFlight) return;
    for (const job of this.jobs.dueOfKind(now, kind, background.maxInFlight))
      this.startBackground(handler, background, job, now);
  }

  /**
   * Leases a due background job (its row moves to now + leaseMs, so a hub that dies meanwhile
   * runs it again then) and starts it without waiting. A kind with every slot taken leaves it
   * due; one still running here whose lease ran out gets a longer lease, not a second run.
   */
  private startBackground(handler: JobHandler, background: BackgroundJobs, job: Job, now: number): void {
    const running = this.inFlight.get(job.id);
    if (running) {
      const extended = this.jobs.reschedule(job, now + background.leaseMs);
      if (extended) this.inFlight.set(job.id, extended);
      return;
    }
    const inKind = this.inFlightByKind.get(job.kind) ?? 0;
    if (inKind >= background.maxInFlight) return;
    const leased = this.jobs.reschedule(job, now + background.leaseMs);
    if (!leased) return;
    this.inFlight.set(job.id, leased);
    this.inFlightByKind.set(job.kind, inKind + 1);
    this.ctx.waitUntil(this.runBackground(handler, leased));
  }

  /** Runs a leased job to its end, then completes or retries its row if it is still the leased one. */
  private async runBackground(handler: JobHandler, leased: Job): Promise<void> {
    let failure: { err: unknown } | undefined;
    try {
      await handler.run(leased);
    } catch (err) {
      log('error', 'hub job failed', { kind: leased.kind, id: leased.id, err });
      failure = { err };
    }
    // The lease may have been extended while it ran: that row is the one to match.
    const current = this.inFlight.get(leased.id) ?? leased;
    this.inFlight.delete(leased.id);
    const left = (this.inFlightByKind.get(leased.kind) ?? 1) - 1;
    if (left > 0) this.inFlightByKind.set(leased.kind, left);
    else this.inFlightByKind.delete(leased.kind);
    try {
      if (failure) this.retryLater(handler, current, failure.err);
      else this.jobs.complete(current.id, current);
      // A slot is free: a due job of this kind that waited for one starts now, without an alarm.
      this.startDueBackground(leased.kind, Date.now());
      await this.armAlarm();
    } catch (err) {
      log('error', 'hub background job not settled', { kind: leased.kind, id: leased.id, err });
    }
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
