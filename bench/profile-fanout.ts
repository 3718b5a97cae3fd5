// A tool, not a suite: CPU profiles of the Worker's and the hubs' isolates while N subscribers
// receive a burst of events published straight into the hub. `npx tsx bench/profile-fanout.ts [N]`
// prints each isolate's self time per function (bench/NOTES.md quotes it).
import { startBench } from './lib/bench';
import { type Profile, printProfile, profile } from './lib/inspector';
import { cpuMs } from './lib/proc';
import { HUBS, WORKER } from './lib/runtime';

const n = Number(process.argv[2] ?? 1000);
const events = Number(process.argv[3] ?? 20);
const b = await startBench();
try {
  const pool = await b.clients(2);
  const account = await b.account();
  await pool.open('p', n, {
    sse: { base: b.runtime.url, path: '/v1/escalations/stream', token: account.token },
  });
  const burst = async () => {
    for (let i = 0; i < events; i++) {
      const mark = b.mark();
      const waiting = pool.waitAll('p', mark, 30_000);
      await b.publishToHub(account.accountId, mark);
      await waiting;
    }
  };
  await burst(); // warm
  const pid = b.runtime.pid() as number;
  const f0 = (await pool.stats('p')).frames;
  const c0 = cpuMs(pid);
  let hubs: Profile | undefined;
  // PROFILE=0: the same burst without the profiler, for the CPU figure alone.
  let worker: Profile | undefined;
  if (process.env.PROFILE === '0') await burst();
  else {
    worker = await profile(b.runtime.inspectorPort, WORKER, async () => {
      hubs = await profile(b.runtime.inspectorPort, HUBS, burst);
    });
  }
  const frames = (await pool.stats('p')).frames - f0;
  const cpu = cpuMs(pid) - c0;
  console.log(
    `${frames} frames, workerd CPU ${cpu.toFixed(0)} ms = ${((cpu * 1000) / frames).toFixed(1)} µs per frame (profiling ${process.env.PROFILE === '0' ? 'off' : 'on'})`,
  );
  for (const [name, p] of [
    ['Worker', worker],
    ['hubs', hubs],
  ] as const)
    if (p) printProfile(name, p, (ms) => `${((ms * 1000) / frames).toFixed(1)} µs per frame`);
} finally {
  await b.stop();
}
