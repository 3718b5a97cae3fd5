// A benchmark client process: holds many subscribers (SSE streams of Switchboard or of the peer
// stack, or Redis SUBSCRIBE connections) so that parsing thousands of streams never runs on the
// event loop that publishes and times. It timestamps each marked event with the machine-wide
// monotonic clock (process.hrtime, CLOCK_MONOTONIC), which the parent reads the same way.
// Protocol (IPC, one JSON message each way per command): see `ClientCommand` in clients.ts.
import { createClient, type RedisClientType } from 'redis';
import type { ClientCommand, ClientReply, GroupStats } from './clients';
import { Subscriber } from './sse-client';

const now = () => Number(process.hrtime.bigint()) / 1e6;
const MARK = /"reason":"bm(\d+)"/;

interface Group {
  size: number;
  sse: Subscriber[];
  redis: RedisClientType[];
  /** Receive times per mark (one per subscriber that got it). */
  times: Map<number, number[]>;
  /** Marks every subscriber of this process has: reported to the parent as they complete. */
  watch: Set<number>;
  duplicates: number;
  /** Every frame with an event (SSE) or message (Redis) received, marked or not. */
  frames: number;
}

const groups = new Map<string, Group>();
const send = (msg: ClientReply) => process.send?.(msg);

function onMark(name: string, g: Group, mark: number): void {
  const at = now();
  const list = g.times.get(mark) ?? [];
  if (list.length === 0) g.times.set(mark, list);
  list.push(at);
  if (list.length > g.size) g.duplicates++;
  if (list.length === g.size && g.watch.delete(mark)) send({ kind: 'done', group: name, mark });
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += size) await Promise.allSettled(items.slice(i, i + size).map(fn));
}

async function handle(cmd: ClientCommand): Promise<ClientReply> {
  switch (cmd.kind) {
    case 'open': {
      const g: Group = {
        size: cmd.n,
        sse: [],
        redis: [],
        times: new Map(),
        watch: new Set(),
        duplicates: 0,
        frames: 0,
      };
      groups.set(cmd.group, g);
      if (cmd.redis) {
        const { url, channel } = cmd.redis;
        g.redis = Array.from({ length: cmd.n }, () => createClient({ url }) as RedisClientType);
        await inBatches(g.redis, 100, async (c) => {
          c.on('error', () => {});
          await c.connect();
          await c.subscribe(channel, (message) => {
            g.frames++;
            const m = MARK.exec(message);
            if (m) onMark(cmd.group, g, Number(m[1]));
          });
        });
      } else if (cmd.sse) {
        const { base, path, token, lastEventId, events } = cmd.sse;
        g.sse = Array.from(
          { length: cmd.n },
          () =>
            new Subscriber({
              base,
              path,
              token,
              ...(lastEventId !== undefined ? { lastEventId } : {}),
              reconnect: true,
              onEvent: (f) => {
                g.frames++;
                // Only the events being timed (a handoff's assessment carries the same mark).
                if (!f.data || (events && !events.includes(f.event ?? ''))) return;
                const m = MARK.exec(f.data);
                if (m) onMark(cmd.group, g, Number(m[1]));
              },
            }),
        );
        await inBatches(g.sse, cmd.batch ?? 100, (s) => s.open());
      }
      return { kind: 'opened', group: cmd.group, stats: stats(g) };
    }
    case 'watch': {
      const g = groups.get(cmd.group);
      if (!g) return { kind: 'error', message: `no group ${cmd.group}` };
      for (const mark of cmd.marks) {
        if ((g.times.get(mark)?.length ?? 0) >= g.size) send({ kind: 'done', group: cmd.group, mark });
        else g.watch.add(mark);
      }
      return { kind: 'ok' };
    }
    case 'times': {
      const g = groups.get(cmd.group);
      if (!g) return { kind: 'error', message: `no group ${cmd.group}` };
      const out: Record<number, number[]> = {};
      for (const mark of cmd.marks) out[mark] = g.times.get(mark) ?? [];
      return { kind: 'times', times: out };
    }
    case 'stats': {
      const g = groups.get(cmd.group);
      return g ? { kind: 'stats', stats: stats(g) } : { kind: 'error', message: `no group ${cmd.group}` };
    }
    case 'close': {
      const g = groups.get(cmd.group);
      groups.delete(cmd.group);
      for (const s of g?.sse ?? []) s.close();
      await Promise.allSettled((g?.redis ?? []).map((c) => c.quit()));
      return { kind: 'ok' };
    }
    case 'exit':
      setTimeout(() => process.exit(0), 10);
      return { kind: 'ok' };
  }
}

function stats(g: Group): GroupStats {
  const sse = g.sse;
  return {
    subscribers: g.size,
    connected: sse.length ? sse.filter((s) => s.connected).length : g.redis.filter((c) => c.isReady).length,
    gaps: sse.reduce((a, s) => a + s.gaps, 0),
    duplicates: sse.reduce((a, s) => a + s.duplicates, 0) + g.duplicates,
    reconnects: sse.reduce((a, s) => a + Math.max(0, s.connects - 1), 0),
    failedConnects: sse.reduce((a, s) => a + s.failedConnects, 0),
    frames: g.frames,
    lastIds: sse.map((s) => s.lastId ?? -1),
    errors: sse.flatMap((s) => s.errors).slice(0, 5),
  };
}

process.on('message', (msg: { id: number; cmd: ClientCommand }) => {
  handle(msg.cmd).then(
    (reply) => send({ ...reply, id: msg.id }),
    (err: unknown) => send({ kind: 'error', message: String(err), id: msg.id }),
  );
});
send({ kind: 'ready' });
