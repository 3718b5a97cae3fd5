// The parent side of the benchmark's client processes (client-proc.ts): subscribers spread over
// several Node processes, marked events timed on the machine-wide monotonic clock.
import { type ChildProcess, fork } from 'node:child_process';
import { resolve } from 'node:path';

export type ClientCommand =
  | {
      kind: 'open';
      group: string;
      n: number;
      batch?: number;
      sse?: { base: string; path: string; token: string; lastEventId?: number; events?: string[] };
      redis?: { url: string; channel: string };
    }
  | { kind: 'watch'; group: string; marks: number[] }
  | { kind: 'times'; group: string; marks: number[] }
  | { kind: 'stats'; group: string }
  | { kind: 'close'; group: string }
  | { kind: 'exit' };

export interface GroupStats {
  subscribers: number;
  connected: number;
  gaps: number;
  duplicates: number;
  reconnects: number;
  failedConnects: number;
  frames: number;
  lastIds: number[];
  errors: string[];
}

export type ClientReply = (
  | { kind: 'ready' }
  | { kind: 'opened'; group: string; stats: GroupStats }
  | { kind: 'done'; group: string; mark: number }
  | { kind: 'ok' }
  | { kind: 'times'; times: Record<number, number[]> }
  | { kind: 'stats'; stats: GroupStats }
  | { kind: 'error'; message: string }
) & { id?: number };

/** The machine-wide monotonic clock, in ms (the clients stamp with the same one). */
export const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

interface Proc {
  child: ChildProcess;
  pending: Map<number, (reply: ClientReply) => void>;
  /** Subscribers per group in this process. */
  sizes: Map<string, number>;
}

export class ClientPool {
  private nextId = 0;
  private readonly waiters = new Map<string, { left: Set<number>; resolve: () => void }>();

  private constructor(private readonly procs: Proc[]) {
    procs.forEach((p, i) => {
      p.child.on('message', (reply: ClientReply) => {
        if (reply.kind === 'done') {
          const key = `${reply.group}:${reply.mark}`;
          const w = this.waiters.get(key);
          if (w) {
            w.left.delete(i);
            if (w.left.size === 0) {
              this.waiters.delete(key);
              w.resolve();
            }
          }
          return;
        }
        if (reply.id !== undefined) {
          p.pending.get(reply.id)?.(reply);
          p.pending.delete(reply.id);
        }
      });
    });
  }

  static async start(count: number): Promise<ClientPool> {
    const script = resolve(import.meta.dirname, 'client-proc.ts');
    const procs = await Promise.all(
      Array.from({ length: count }, async () => {
        const child = fork(script, [], {
          execArgv: ['--import', 'tsx', '--max-old-space-size=2048'],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        await new Promise<void>((ok, fail) => {
          child.once('message', (m: ClientReply) =>
            m.kind === 'ready' ? ok() : fail(new Error('client did not start')),
          );
          child.once('exit', (code) => fail(new Error(`client process exited (${code})`)));
        });
        return { child, pending: new Map(), sizes: new Map() } satisfies Proc;
      }),
    );
    return new ClientPool(procs);
  }

  get size(): number {
    return this.procs.length;
  }

  pids(): number[] {
    return this.procs.map((p) => p.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  private ask(p: Proc, cmd: ClientCommand): Promise<ClientReply> {
    const id = this.nextId++;
    return new Promise((ok) => {
      p.pending.set(id, ok);
      p.child.send({ id, cmd });
    });
  }

  /** Opens `n` subscribers spread evenly over the processes (or over the first `spread`). */
  async open(
    group: string,
    n: number,
    spec: Omit<Extract<ClientCommand, { kind: 'open' }>, 'kind' | 'group' | 'n'>,
    spread = this.procs.length,
  ): Promise<GroupStats> {
    const used = this.procs.slice(0, Math.max(1, Math.min(spread, n)));
    const replies = await Promise.all(
      used.map((p, i) => {
        const k = Math.floor(n / used.length) + (i < n % used.length ? 1 : 0);
        p.sizes.set(group, k);
        return this.ask(p, { kind: 'open', group, n: k, ...spec });
      }),
    );
    return merge(replies.map((r) => (r.kind === 'opened' ? r.stats : undefined)));
  }

  /** Resolves true when every subscriber of the group has `mark`, false after `timeoutMs`. */
  async waitAll(group: string, mark: number, timeoutMs: number): Promise<boolean> {
    const holders = this.procs.map((p, i) => ((p.sizes.get(group) ?? 0) > 0 ? i : -1)).filter((i) => i >= 0);
    const key = `${group}:${mark}`;
    const done = new Promise<void>((ok) => this.waiters.set(key, { left: new Set(holders), resolve: ok }));
    await Promise.all(
      holders.map((i) => this.ask(this.procs[i] as Proc, { kind: 'watch', group, marks: [mark] })),
    );
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      done.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.waiters.delete(key);
    return ok;
  }

  /** Every receive time of each mark, over all processes. */
  async times(group: string, marks: number[]): Promise<Map<number, number[]>> {
    const out = new Map<number, number[]>(marks.map((m) => [m, []]));
    for (const p of this.procs) {
      if (!p.sizes.get(group)) continue;
      const r = await this.ask(p, { kind: 'times', group, marks });
      if (r.kind !== 'times') continue;
      for (const [m, list] of Object.entries(r.times)) out.get(Number(m))?.push(...list);
    }
    return out;
  }

  async stats(group: string): Promise<GroupStats> {
    const replies = await Promise.all(
      this.procs.filter((p) => p.sizes.get(group)).map((p) => this.ask(p, { kind: 'stats', group })),
    );
    return merge(replies.map((r) => (r.kind === 'stats' ? r.stats : undefined)));
  }

  async close(group: string): Promise<void> {
    await Promise.all(
      this.procs.filter((p) => p.sizes.get(group)).map((p) => this.ask(p, { kind: 'close', group })),
    );
    for (const p of this.procs) p.sizes.delete(group);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(async (p) => {
        if (p.child.exitCode !== null) return;
        const exited = new Promise((r) => p.child.once('exit', r));
        p.child.send({ id: -1, cmd: { kind: 'exit' } });
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
        if (p.child.exitCode === null) p.child.kill('SIGKILL');
      }),
    );
  }
}

function merge(list: (GroupStats | undefined)[]): GroupStats {
  const out: GroupStats = {
    subscribers: 0,
    connected: 0,
    gaps: 0,
    duplicates: 0,
    reconnects: 0,
    failedConnects: 0,
    frames: 0,
    lastIds: [],
    errors: [],
  };
  for (const s of list) {
    if (!s) continue;
    out.subscribers += s.subscribers;
    out.connected += s.connected;
    out.gaps += s.gaps;
    out.duplicates += s.duplicates;
    out.reconnects += s.reconnects;
    out.failedConnects += s.failedConnects;
    out.frames += s.frames;
    out.lastIds.push(...s.lastIds);
    out.errors.push(...s.errors);
  }
  out.errors = out.errors.slice(0, 5);
  return out;
}
