// The Worker and its Durable Objects for the benchmark, straight in workerd through Miniflare's
// Node API: the production bundle (`wrangler deploy --dry-run`), the bindings wrangler.toml
// declares (read by wrangler's own `unstable_getMiniflareWorkerOptions`), and a direct socket into
// the Worker, so no dev proxy sits between the clients and the runtime (wrangler dev puts a second
// workerd in front). A second, tiny Worker (`bench-publisher`) binds the same AccountHub class, so
// the bus benchmark can publish straight into a hub the way a Redis client publishes straight to
// Redis. Everything it starts it stops.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Miniflare as MiniflareType, V4MiniflareOptions, V4WorkerOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { freePort } from '../../scripts/lib/wrangler-dev';
import { descendants } from './proc';

export const root = resolve(import.meta.dirname, '../..');

/** The script the Durable Objects run in (the Worker binds them there). */
export const HUBS = 'switchboard-hubs';
/** The Worker's script. */
export const WORKER = 'switchboard';

// Wrangler's own Miniflare (and so its workerd, the one `npm run dev` runs), not the copy the
// vitest plugin brings.
const fromWrangler = createRequire(createRequire(import.meta.url).resolve('wrangler/package.json'));
const miniflare = (await import(pathToFileURL(fromWrangler.resolve('miniflare')).href)) as {
  Miniflare: new (opts: unknown) => MiniflareType;
  convertV4MiniflareOptions(opts: V4MiniflareOptions): unknown;
};

/** The bundle `wrangler deploy` would upload, built once per run. */
export function buildBundle(outDir: string): { dir: string; main: string; log: string } {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(resolve(root, 'web/dist'), { recursive: true });
  const res = spawnSync(
    process.execPath,
    [resolve(root, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outDir],
    { cwd: root, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' } },
  );
  const log = `${res.stdout}${res.stderr}`;
  const main = readdirSync(outDir).find((f) => f.endsWith('.js'));
  if (res.status !== 0 || !main) throw new Error(`wrangler deploy --dry-run failed:\n${log}`);
  return { dir: outDir, main: resolve(outDir, main), log };
}

// Publishes a list of events into an account's hub: POST {account, events}.
const PUBLISHER = `
export default {
  async fetch(request, env) {
    const { account, events } = await request.json();
    const hub = env.ACCOUNT_HUB.get(env.ACCOUNT_HUB.idFromName(account));
    return Response.json(await hub.publish(account, events));
  },
};`;

export interface Runtime {
  /** The Worker's direct socket. */
  url: string;
  /** The bench publisher's direct socket (POST {account, events} → the hub's publish answer). */
  publisherUrl: string;
  inspectorPort: number;
  /** The workerd process (CPU and memory are read from /proc). */
  pid(): number | undefined;
  /** workerd's open descriptors right after it (re)started, before any client connected. */
  baseFds(): number;
  runCron(): Promise<void>;
  /**
   * Stops workerd and starts it again on the same ports and state (a restart of every hub), with
   * these settings changed from then on; `undefined` drops the run's own value (wrangler.toml's
   * applies again).
   */
  restart(vars?: Record<string, string | undefined>): Promise<void>;
  stop(): Promise<void>;
}

export async function startRuntime(opts: {
  bundle: { main: string };
  vars: Record<string, string>;
  persistTo: string;
}): Promise<Runtime> {
  const base = unstable_getMiniflareWorkerOptions(resolve(root, 'wrangler.toml')).workerOptions;
  // binding → class, as wrangler.toml declares them.
  const hubClasses = Object.fromEntries(
    Object.entries(base.durableObjects ?? {}).map(([binding, d]) => [
      binding,
      typeof d === 'string' ? d : (d as { className: string }).className,
    ]),
  );
  const port = await freePort();
  const publisherPort = await freePort();
  const inspectorPort = await freePort();
  mkdirSync(opts.persistTo, { recursive: true });
  const vars: Record<string, string> = { ...opts.vars };
  const options = (): V4MiniflareOptions => {
    // What the benchmark needs of wrangler.toml (the site's assets are left out: the benchmark
    // talks to the API only, so no asset router sits in front).
    const worker = {
      compatibilityDate: base.compatibilityDate,
      compatibilityFlags: base.compatibilityFlags,
      durableObjects: base.durableObjects,
      bindings: base.bindings,
    };
    return {
      inspectorPort,
      durableObjectsPersist: resolve(opts.persistTo, 'do'),
      workers: [
        {
          ...worker,
          name: 'switchboard',
          modules: true,
          scriptPath: opts.bundle.main,
          modulesRoot: resolve(opts.bundle.main, '..'),
          bindings: { ...(worker.bindings ?? {}), ...vars },
          // The hubs run in an isolate of their own, as on Cloudflare, where a Worker and a Durable
          // Object never share one (their heaps are then measured apart).
          durableObjects: Object.fromEntries(
            Object.entries(hubClasses).map(([binding, className]) => [
              binding,
              { className, scriptName: HUBS, useSQLite: true },
            ]),
          ),
          unsafeDirectSockets: [{ host: '127.0.0.1', port }],
        } as V4WorkerOptions,
        {
          ...worker,
          name: HUBS,
          modules: true,
          scriptPath: opts.bundle.main,
          modulesRoot: resolve(opts.bundle.main, '..'),
          bindings: { ...(worker.bindings ?? {}), ...vars },
        } as V4WorkerOptions,
        {
          name: 'bench-publisher',
          modules: true,
          script: PUBLISHER,
          compatibilityDate: base.compatibilityDate,
          durableObjects: { ACCOUNT_HUB: { className: 'AccountHub', scriptName: HUBS, useSQLite: true } },
          unsafeDirectSockets: [{ host: '127.0.0.1', port: publisherPort }],
        } as V4WorkerOptions,
      ],
    };
  };
  const create = () => new miniflare.Miniflare(miniflare.convertV4MiniflareOptions(options()));
  let mf: MiniflareType | undefined = create();
  await mf.ready;
  const pid = () => workerdChild();
  const countFds = () => readdirSync(`/proc/${pid()}/fd`).length;
  let baseFds = countFds();
  return {
    url: `http://127.0.0.1:${port}`,
    publisherUrl: `http://127.0.0.1:${publisherPort}`,
    inspectorPort,
    pid,
    baseFds: () => baseFds,
    runCron: async () => {
      const worker = await (mf as MiniflareType).getWorker('switchboard');
      await worker.scheduled({ cron: '*/10 * * * *' });
    },
    restart: async (next) => {
      for (const [name, value] of Object.entries(next ?? {})) {
        if (value === undefined) delete vars[name];
        else vars[name] = value;
      }
      await mf?.dispose();
      mf = create();
      await mf.ready;
      baseFds = countFds();
    },
    stop: async () => {
      await mf?.dispose();
      mf = undefined;
    },
  };
}

/** The workerd process this Node process started. */
const workerdChild = () => descendants(process.pid).find((p) => p.comm.startsWith('workerd'))?.pid;
