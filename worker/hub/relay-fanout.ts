import { getOrCreate } from '../lib/get-or-create';
import { log } from '../lib/log';
import type { SubscriberInfo, UsageCounter } from './hub-module';
import {
  type RelayDelivery,
  type RelayDeliveryResult,
  type RelayFrame,
  type RelayJoin,
  relayName,
} from './relay-protocol';
import type { OutFrame } from './socket-index';

/** The registry of relayed subscribers (a host schema migration). */
export function createRelayTable(sql: SqlStorage): void {
  sql.exec(`create table if not exists relay_subscribers (
    relay integer not null,
    sid text not null,
    topic text not null,
    user_id text,
    name text,
    primary key (relay, sid)
  ) without rowid`);
}

/** Delays between attempts of one delivery to a relay; after the last the batch is dropped (see `pump`). */
const RETRY_MS = [50, 250, 1_000];
/** After a dropped batch: when to try once more, empty, so the relay fills its gap from the log. */
const RESYNC_MS = 5_000;

interface Hooks {
  /** A relayed subscriber is gone (its relay said so, or no longer holds it). */
  unsubscribed(info: SubscriberInfo): void;
  count(counter: UsageCounter, n: number): void;
  waitUntil(work: Promise<unknown>): void;
  /** The account hub's last id of a topic. */
  lastId(topic: string): number;
}

/**
 * The account hub's side of relay fan-out: which relay holds which subscribers (a SQLite table, so
 * it survives hibernation and restarts, read into memory on first use), and one ordered queue per
 * relay. Each relay gets one RPC per batch, never two at once, so frames arrive in order and
 * whatever piles up while a call is in flight goes in the next one.
 */
export class RelayFanout {
  private members: Map<number, Map<string, Set<string>>> | undefined;
  private readonly queues = new Map<number, { frames: RelayFrame[]; resync: boolean; busy: boolean }>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly accountId: string,
    private readonly hooks: Hooks,
  ) {}

  private registry(): Map<number, Map<string, Set<string>>> {
    if (this.members) return this.members;
    const members = new Map<number, Map<string, Set<string>>>();
    for (const row of this.sql.exec<{ relay: number; sid: string; topic: string }>(
      'select relay, sid, topic from relay_subscribers',
    )) {
      const topics = getOrCreate(members, row.relay, () => new Map<string, Set<string>>());
      getOrCreate(topics, row.topic, () => new Set<string>()).add(row.sid);
    }
    this.members = members;
    // After a wake (or a restart), check every relay once: one that restarted meanwhile lost its
    // sockets, and its answer shows which (reconcile); one that missed frames fills the gap.
    for (const relay of members.keys()) this.push(relay, [], true);
    return members;
  }

  /** Relayed subscribers: of one topic, or all. */
  count(topic?: string): number {
    let n = 0;
    for (const topics of this.registry().values()) {
      if (topic === undefined) for (const sids of topics.values()) n += sids.size;
      else n += topics.get(topic)?.size ?? 0;
    }
    return n;
  }

  private countOf(relay: number): number {
    let n = 0;
    for (const sids of this.registry().get(relay)?.values() ?? []) n += sids.size;
    return n;
  }

  /** The relay a new subscriber goes to: the lowest-numbered one with room (`reserved`: slots promised). */
  choose(threshold: number, reserved: (relay: number) => number): number {
    for (let n = 0; ; n++) if (this.countOf(n) + reserved(n) < threshold) return n;
  }

  register(join: RelayJoin): void {
    this.sql.exec(
      `insert into relay_subscribers (relay, sid, topic, user_id, name) values (?, ?, ?, ?, ?)
       on conflict (relay, sid) do update set topic = excluded.topic`,
      join.relay,
      join.sid,
      join.topic,
      join.userId,
      join.name,
    );
    const topics = getOrCreate(this.registry(), join.relay, () => new Map<string, Set<string>>());
    getOrCreate(topics, join.topic, () => new Set<string>()).add(join.sid);
  }

  /** Removes a relayed subscriber; returns who it was, or undefined if it was already gone. */
  unregister(relay: number, sid: string): SubscriberInfo | undefined {
    const row = this.sql
      .exec<{ topic: string; user_id: string | null; name: string | null }>(
        'delete from relay_subscribers where relay = ? and sid = ? returning topic, user_id, name',
        relay,
        sid,
      )
      .toArray()[0];
    const topics = this.registry().get(relay);
    if (row) {
      topics?.get(row.topic)?.delete(sid);
      if (topics?.get(row.topic)?.size === 0) topics.delete(row.topic);
    }
    return row ? { topic: row.topic, userId: row.user_id, name: row.name } : undefined;
  }

  /** A user's streams held through relays (for the per-user stream cap). */
  countUser(userId: string): number {
    return this.sql
      .exec<{ n: number }>('select count(*) as n from relay_subscribers where user_id = ?', userId)
      .one().n;
  }

  /** Everyone subscribed through relays (for modules that ask who is there). */
  subscribers(): SubscriberInfo[] {
    return this.sql
      .exec<{ topic: string; user_id: string | null; name: string | null }>(
        'select topic, user_id, name from relay_subscribers',
      )
      .toArray()
      .map((r) => ({ topic: r.topic, userId: r.user_id, name: r.name }));
  }

  /** Queues a topic's frames for every relay holding a subscriber of it. */
  enqueue(topic: string, frames: readonly OutFrame[]): void {
    for (const [relay, topics] of this.registry()) {
      if (!topics.get(topic)?.size) continue;
      this.push(
        relay,
        frames.map((f) => ({ topic, text: f.text, ...(f.id !== undefined ? { id: f.id } : {}) })),
      );
    }
  }

  /** Queues a frame for one relayed subscriber only. */
  sendTo(relay: number, sid: string, topic: string, text: string): void {
    this.push(relay, [{ topic, text, to: sid }]);
  }

  private push(relay: number, frames: RelayFrame[], resync = false): void {
    const q = getOrCreate(this.queues, relay, () => ({
      frames: [] as RelayFrame[],
      resync: false,
      busy: false,
    }));
    q.frames.push(...frames);
    q.resync ||= resync;
    if (!q.busy) this.hooks.waitUntil(this.pump(relay));
  }

  private stub(relay: number) {
    const ns = this.env.RELAY_HUB;
    return ns.get(ns.idFromName(relayName(this.accountId, relay)));
  }

  /**
   * Sends the relay's queue, one call at a time, until it is empty. A call that keeps failing drops
   * its batch after a few attempts: logged frames are not lost by that, since a relay that sees an
   * id past the next one fills the gap from the log; one more (empty) delivery a little later,
   * carrying each topic's head, makes sure that happens even if no event follows.
   */
  private async pump(relay: number): Promise<void> {
    const q = this.queues.get(relay);
    if (!q || q.busy) return;
    q.busy = true;
    try {
      while (q.frames.length > 0 || q.resync) {
        const delivery: RelayDelivery = { frames: q.frames.splice(0, q.frames.length) };
        if (q.resync) {
          q.resync = false;
          delivery.heads = {};
          for (const topic of this.registry().get(relay)?.keys() ?? []) {
            delivery.heads[topic] = this.hooks.lastId(topic);
          }
        }
        if (!(await this.deliver(relay, delivery))) {
          const later = new Promise<void>((resolve) =>
            setTimeout(() => {
              if (this.registry().get(relay)?.size) this.push(relay, [], true);
              resolve();
            }, RESYNC_MS),
          );
          this.hooks.waitUntil(later);
        }
      }
    } finally {
      q.busy = false;
    }
  }

  private async deliver(relay: number, delivery: RelayDelivery): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = (await this.stub(relay).deliver(delivery)) as RelayDeliveryResult;
        this.hooks.count('deliveries', result.deliveries);
        if (result.woke) this.hooks.count('hub_wakeups', 1);
        await this.reconcile(relay, result.sockets);
        return true;
      } catch (err) {
        const wait = RETRY_MS[attempt];
        if (wait === undefined) {
          log('warn', 'relay delivery failed; the relay fills the gap from the log later', {
            relay,
            frames: delivery.frames.length,
            err,
          });
          return false;
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * A relay holding fewer sockets than the registry says lost some without telling (a restart):
   * ask which it holds and let the modules know about the others.
   */
  private async reconcile(relay: number, sockets: Record<string, number>): Promise<void> {
    for (const [topic, held] of Object.entries(sockets)) {
      const known = this.registry().get(relay)?.get(topic);
      if (!known || known.size <= held) continue;
      const live = new Set((await this.stub(relay).sids(topic)) as string[]);
      for (const sid of [...known]) {
        if (live.has(sid)) continue;
        const info = this.unregister(relay, sid);
        if (info) this.hooks.unsubscribed(info);
      }
    }
  }
}
