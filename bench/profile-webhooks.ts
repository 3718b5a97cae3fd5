// A tool, not a suite: where a hub's time goes while it delivers webhooks (the throughput case of
// bench/webhooks.ts). `npm run bench:profile-webhooks -- [events] [endpoints]` prints workerd's CPU
// per delivery, beside the wall time per delivery, and the hubs' isolate's self time per function.
// PROFILE=0: the same run without the profiler, for the CPU figure alone.
import { startBench } from './lib/bench';
import { type Profile, printProfile, profile } from './lib/inspector';
import { cpuMs } from './lib/proc';
import { HUBS } from './lib/runtime';
import { throughput } from './webhooks';

const events = Number(process.argv[2] ?? 1000);
const endpoints = Number(process.argv[3] ?? 2);
const b = await startBench();
try {
  await throughput(b, 100, endpoints); // warm
  const pid = b.runtime.pid() as number;
  const c0 = cpuMs(pid);
  let result: Awaited<ReturnType<typeof throughput>> | undefined;
  let hubs: Profile | undefined;
  const run = async () => {
    result = await throughput(b, events, endpoints);
  };
  if (process.env.PROFILE === '0') await run();
  else hubs = await profile(b.runtime.inspectorPort, HUBS, run);
  const cpu = cpuMs(pid) - c0;
  if (!result) throw new Error('no result');
  const n = result.hub.delivered;
  console.log(
    `${n} deliveries in ${result.hub.seconds.toFixed(2)} s (${result.hub.perSecond.toFixed(0)}/s, ${((result.hub.seconds * 1000) / n).toFixed(2)} ms each); workerd CPU ${cpu.toFixed(0)} ms = ${(cpu / n).toFixed(2)} ms per delivery (the Node sender beside it runs in this process, not in workerd; profiling ${process.env.PROFILE === '0' ? 'off' : 'on'})`,
  );
  if (hubs) printProfile('hubs', hubs, (ms) => `${(ms / n).toFixed(2)} ms per delivery`);
} finally {
  await b.stop();
}
