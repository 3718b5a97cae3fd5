// The JavaScript heap of one workerd isolate, read over the V8 inspector workerd exposes
// (Chrome DevTools Protocol): a full garbage collection first, then the used heap size.
import { WebSocket } from '../../scripts/lib/node-ws';

interface Target {
  id: string;
  webSocketDebuggerUrl: string;
}

async function cdp<T>(
  url: string,
  calls: { method: string; params?: Record<string, unknown> }[],
): Promise<T[]> {
  const ws = new WebSocket(url);
  await new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
  });
  try {
    const out: T[] = [];
    for (const [i, c] of calls.entries()) {
      const reply = await new Promise<{ id: number; result?: T; error?: { message: string } }>((ok, fail) => {
        const onMessage = (data: Buffer) => {
          const msg = JSON.parse(data.toString('utf8')) as {
            id?: number;
            result?: T;
            error?: { message: string };
          };
          if (msg.id === i + 1) {
            ws.off('message', onMessage);
            ok(msg as { id: number; result?: T; error?: { message: string } });
          }
        };
        ws.on('message', onMessage);
        ws.once('error', fail);
        ws.send(JSON.stringify({ id: i + 1, method: c.method, params: c.params ?? {} }));
      });
      if (reply.error) throw new Error(`${c.method}: ${reply.error.message}`);
      out.push(reply.result as T);
    }
    return out;
  } finally {
    ws.close();
  }
}

/**
 * Used JS heap of the isolate of `worker` (its inspector target `core:user:<worker>`), after a full
 * GC. workerd runs an inspector command that needs the isolate (the GC) only when the isolate next
 * runs, so `poke` sends it a request every 50 ms until the collection is done.
 */
export async function heapUsed(
  inspectorPort: number,
  worker: string,
  poke: () => Promise<unknown>,
): Promise<number> {
  const list = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as Target[];
  const target = list.find((t) => t.id === `core:user:${worker}`);
  if (!target)
    throw new Error(`no inspector target for ${worker} (have ${list.map((t) => t.id).join(', ')})`);
  let done = false;
  const poking = (async () => {
    while (!done) {
      await poke().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    const [, usage] = await cdp<{ usedSize: number; totalSize: number }>(target.webSocketDebuggerUrl, [
      { method: 'HeapProfiler.collectGarbage' },
      { method: 'Runtime.getHeapUsage' },
    ]);
    return usage?.usedSize ?? Number.NaN;
  } finally {
    done = true;
    await poking;
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** An isolate's sampled time while some work ran: in all, and per function (largest first). */
export interface Profile {
  totalMs: number;
  top: { fn: string; selfMs: number; share: number }[];
}

/** Prints a profile: its total (`per` says it per unit of work), then the functions' shares. */
export function printProfile(isolate: string, p: Profile, per: (totalMs: number) => string): void {
  console.log(`\n${isolate} isolate: ${p.totalMs.toFixed(0)} ms of JS samples = ${per(p.totalMs)}`);
  for (const t of p.top)
    console.log(
      `  ${(t.share * 100).toFixed(1).padStart(5)}%  ${t.selfMs.toFixed(1).padStart(7)} ms  ${t.fn}`,
    );
}

/** A CPU profile of one isolate while `work` runs: self time per function, largest first. */
export async function profile(
  inspectorPort: number,
  worker: string,
  work: () => Promise<void>,
): Promise<Profile> {
  const list = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as Target[];
  const target = list.find((t) => t.id === `core:user:${worker}`);
  if (!target) throw new Error(`no inspector target for ${worker}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
  });
  let id = 0;
  const send = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((ok, fail) => {
      const my = ++id;
      const onMessage = (data: Buffer) => {
        const msg = JSON.parse(data.toString('utf8')) as {
          id?: number;
          result?: T;
          error?: { message: string };
        };
        if (msg.id !== my) return;
        ws.off('message', onMessage);
        if (msg.error) fail(new Error(`${method}: ${msg.error.message}`));
        else ok(msg.result as T);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id: my, method, params }));
    });
  try {
    await send('Profiler.enable');
    await send('Profiler.setSamplingInterval', { interval: 100 });
    await send('Profiler.start');
    await work();
    const { profile: p } = await send<{
      profile: {
        nodes: ProfileNode[];
        startTime: number;
        endTime: number;
        samples: number[];
        timeDeltas: number[];
      };
    }>('Profiler.stop');
    const self = new Map<number, number>();
    for (const [i, nodeId] of p.samples.entries())
      self.set(nodeId, (self.get(nodeId) ?? 0) + (p.timeDeltas[i] ?? 0));
    const byFn = new Map<string, number>();
    let total = 0;
    for (const node of p.nodes) {
      const us = self.get(node.id) ?? 0;
      if (node.callFrame.functionName === '(idle)') continue;
      total += us;
      const file = node.callFrame.url.split('/').pop() ?? '';
      const key = `${node.callFrame.functionName || '(anonymous)'} ${file}:${node.callFrame.lineNumber}`;
      byFn.set(key, (byFn.get(key) ?? 0) + us);
    }
    const top = [...byFn.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([fn, us]) => ({ fn, selfMs: us / 1000, share: us / total }));
    return { totalMs: total / 1000, top };
  } finally {
    ws.close();
  }
}
