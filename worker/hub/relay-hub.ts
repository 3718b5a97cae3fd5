import { log } from '../lib/log';
import type { ReplayFrames } from './event-log';
import {
  parseRelayName,
  type RelayDelivery,
  type RelayDeliveryResult,
  type RelayJoinResult,
  type RelayPageResult,
} from './relay-protocol';
import { REPLAY_MORE } from './replay-protocol';
import { FanoutQueue, type Member, type OutFrame, sendOrClose } from './socket-index';
import { MAX_PAGE_BYTES, parseSubscribeRequest } from './subscribe-request';
import { SubscriberHost } from './subscriber-host';

/** A subscriber that cannot catch up with the relay's feed in this many pages is closed (it resumes). */
const MAX_CATCH_UP_PAGES = 20;

/**
 * A relay hub (`relay:<account>:<n>`): one level of fan-out below an account hub with more
 * subscribers than RELAY_FANOUT_THRESHOLD. It holds subscribers' hibernatable sockets exactly as the
 * account hub holds its own, receives each event once per batch from the account hub, and sends it
 * to its live subscribers. It keeps no log: replay pages come from the account hub's log, so ids,
 * order and `reset` are the account hub's. Per topic it remembers the last id it was fed (`feed`,
 * in SQLite, one row per topic), which makes a repeated delivery harmless and shows a gap, which it
 * fills from the log before sending anything newer.
 */
export class RelayHub extends SubscriberHost {
  private readonly feed = new Map<string, number>();
  private readonly accountId: string;
  private readonly n: number;
  /** Until the first delivery after construction reports it (usage counts wake-ups). */
  private woke = true;
  /** Frames sent since the last delivery result reported them (usage). */
  private delivered = 0;
  private readonly fanout = new FanoutQueue((n) => {
    this.delivered += n;
  });

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const parsed = parseRelayName(ctx.id.name);
    if (!parsed) throw new Error(`a relay hub is addressed as relay:<account>:<n>, not ${ctx.id.name}`);
    this.accountId = parsed.accountId;
    this.n = parsed.n;
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(
        'create table if not exists relay_feed (topic text primary key, last_id integer not null)',
      );
      for (const row of ctx.storage.sql.exec<{ topic: string; last_id: number }>(
        'select topic, last_id from relay_feed',
      )) {
        this.feed.set(row.topic, row.last_id);
      }
    });
  }

  private hub() {
    return this.env.ACCOUNT_HUB.get(this.env.ACCOUNT_HUB.idFromName(this.accountId));
  }

  // ── subscribing ───────────────────────────────────────────────────────────────────────────

  /** The Worker's WebSocket upgrade, with the same parameters the account hub takes. */
  override async fetch(request: Request): Promise<Response> {
    const req = parseSubscribeRequest(request);
    if (req instanceof Response) return req;
    const { topic, after } = req;
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    // Accepted first, not live: deliveries that arrive while the account hub registers it move the
    // feed on, and `goLive` then sends what it missed.
    this.ctx.acceptWebSocket(server, [topic]);
    const member = this.subs.add(server, {
      sid: crypto.randomUUID(),
      topic,
      cursor: 0,
      live: false,
      pageBytes: req.pageBytes,
      userId: req.userId,
      name: req.name,
    });
    let join: RelayJoinResult;
    try {
      join = (await this.hub().relayJoin({
        relay: this.n,
        sid: member.sub.sid,
        topic,
        userId: member.sub.userId ?? null,
        name: member.sub.name ?? null,
        pageBytes: member.sub.pageBytes,
        ...(after !== undefined ? { after } : {}),
      })) as RelayJoinResult;
    } catch (err) {
      log('warn', 'relay could not register a subscriber with its account hub', { err });
      this.subs.remove(member);
      server.close(1011, 'account hub unavailable');
      return new Response('account hub unavailable', { status: 503 });
    }
    // With no live subscriber on the topic the feed's position is free to move to the log's end.
    if (!this.hasLive(topic)) this.feed.set(topic, Math.max(this.feed.get(topic) ?? 0, join.lastId));
    const start = join.start;
    if (start.kind === 'page') {
      this.sendPage(member, start.page);
    } else {
      if (start.kind === 'reset') this.sendOne(server, start.frame);
      member.sub.cursor = join.lastId;
    }
    for (const frame of join.frames) this.sendOne(server, frame);
    if (start.kind !== 'page' || start.page.done) await this.goLive(member);
    return new Response(null, { status: 101, webSocket: client });
  }

  protected override async nextPage(member: Member): Promise<void> {
    const result = await this.page(member.sub.topic, member.sub.cursor, member.sub.pageBytes);
    if (!this.subs.get(member.sub.topic, member.sub.sid)) return;
    if (!result) return this.closeOne(member, 'replay unavailable');
    this.sendPage(member, result);
    if (result.done) await this.goLive(member);
  }

  protected override left(member: Member): void {
    // If this call fails, the account hub finds out at its next delivery (`sockets` is lower).
    this.ctx.waitUntil(
      Promise.resolve(this.hub().relayLeave(this.n, member.sub.sid)).catch((err: unknown) =>
        log('warn', 'relay could not report a closed subscriber', { err }),
      ),
    );
  }

  /** The ids of the sockets the relay holds on a topic (the account hub reconciles with them). */
  sids(topic: string): string[] {
    return [...this.subs.members(topic)].map((m) => m.sub.sid);
  }

  // ── delivering ────────────────────────────────────────────────────────────────────────────

  /**
   * A batch from the account hub, in order. The frames are queued for the relay's sockets (sent a
   * slice at a time, in order); the answer reports what was sent since the last one.
   */
  async deliver(delivery: RelayDelivery): Promise<RelayDeliveryResult> {
    const woke = this.woke;
    this.woke = false;
    const touched = new Set<string>();
    let run: OutFrame[] = [];
    let runTopic = '';
    const flush = () => {
      if (run.length > 0) this.fanout.push(this.subs.members(runTopic), run);
      run = [];
    };
    for (const f of delivery.frames) {
      touched.add(f.topic);
      if (f.to !== undefined) {
        flush();
        const member = this.subs.get(f.topic, f.to);
        if (member) this.sendOne(member.ws, f.text);
        continue;
      }
      if (f.topic !== runTopic) {
        flush();
        runTopic = f.topic;
      }
      if (f.id === undefined) {
        run.push({ text: f.text });
        continue;
      }
      const head = this.feed.get(f.topic);
      if (head !== undefined && f.id <= head) continue; // delivered before
      if (head !== undefined && f.id > head + 1 && this.hasLive(f.topic)) {
        flush();
        await this.fill(f.topic, f.id - 1);
        if ((this.feed.get(f.topic) ?? 0) >= f.id) continue;
      }
      run.push({ id: f.id, text: f.text });
      this.feed.set(f.topic, f.id);
    }
    flush();
    this.fanout.kick();
    for (const [topic, head] of Object.entries(delivery.heads ?? {})) {
      touched.add(topic);
      if ((this.feed.get(topic) ?? head) < head && this.hasLive(topic)) await this.fill(topic, head);
    }
    const sockets: Record<string, number> = {};
    for (const topic of touched) {
      sockets[topic] = this.subs.size(topic);
      const last = this.feed.get(topic);
      if (last !== undefined) {
        this.ctx.storage.sql.exec(
          `insert into relay_feed (topic, last_id) values (?, ?)
           on conflict (topic) do update set last_id = excluded.last_id`,
          topic,
          last,
        );
      }
    }
    const deliveries = this.delivered;
    this.delivered = 0;
    return { sockets, deliveries, woke };
  }

  /** Sends to one socket, after any broadcast still queued (so order is kept). */
  private sendOne(ws: WebSocket, text: string): void {
    this.fanout.drain();
    if (sendOrClose(ws, text)) this.delivered++;
  }

  /** Sends the topic's logged frames after the feed's position through `through` to live subscribers. */
  private async fill(topic: string, through: number): Promise<void> {
    for (let pages = 0; (this.feed.get(topic) ?? 0) < through && pages < MAX_CATCH_UP_PAGES; pages++) {
      const from = this.feed.get(topic) ?? 0;
      const result = await this.page(topic, from, MAX_PAGE_BYTES);
      if (!result) {
        // The log no longer holds what these subscribers missed: they resume and get `reset`.
        for (const m of [...this.subs.members(topic)])
          if (m.sub.live) this.closeOne(m, 'fell behind the log');
        this.feed.set(topic, through);
        return;
      }
      if (result.lastId <= from) break;
      // Another call may have moved the feed on while this page was on its way.
      const fresh = result.frames.filter((f) => f.id > (this.feed.get(topic) ?? 0));
      this.fanout.push(this.subs.members(topic), fresh);
      this.feed.set(topic, Math.max(this.feed.get(topic) ?? 0, result.lastId));
    }
  }

  // ── replay ────────────────────────────────────────────────────────────────────────────────

  private async page(topic: string, after: number, bytes: number): Promise<ReplayFrames | undefined> {
    try {
      const result = (await this.hub().relayPage(topic, after, bytes)) as RelayPageResult;
      return result.kind === 'page' ? result.page : undefined;
    } catch (err) {
      log('warn', 'relay could not read a replay page from its account hub', { err });
      return undefined;
    }
  }

  private sendPage(member: Member, page: ReplayFrames): void {
    const text = page.frames.map((f) => f.text).join('');
    member.sub.cursor = page.lastId;
    this.subs.save(member);
    this.sendOne(member.ws, page.done ? text : `${text}${REPLAY_MORE}`);
  }

  /**
   * A subscriber whose replay reached the end of the log goes live once it has everything the relay
   * was fed; deliveries that overtook its replay are fetched from the log first.
   */
  private async goLive(member: Member): Promise<void> {
    const { topic, sid } = member.sub;
    for (let pages = 0; pages < MAX_CATCH_UP_PAGES; pages++) {
      if (member.sub.cursor >= (this.feed.get(topic) ?? 0)) {
        member.sub.live = true;
        this.subs.save(member);
        return;
      }
      const page = await this.page(topic, member.sub.cursor, member.sub.pageBytes);
      if (!this.subs.get(topic, sid)) return;
      if (!page) break;
      if (page.frames.length > 0) this.sendOne(member.ws, page.frames.map((f) => f.text).join(''));
      member.sub.cursor = Math.max(member.sub.cursor, page.lastId);
    }
    this.closeOne(member, 'could not catch up');
  }

  private hasLive(topic: string): boolean {
    for (const m of this.subs.members(topic)) if (m.sub.live) return true;
    return false;
  }

  private closeOne(member: Member, why: string): void {
    try {
      member.ws.close(1011, why);
    } catch {
      // already closed
    }
    this.unsubscribed(member.ws);
  }
}
