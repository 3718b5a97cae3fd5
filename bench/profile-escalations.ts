// A tool, not a suite: where workerd's CPU goes per escalation in the usage suite's case (50
// queues open; each escalation created, assessed by the hub, picked up and resolved).
// `npm run bench:profile-escalations -- [escalations] [queues]` prints workerd's CPU per
// escalation and the Worker's and the hubs' isolates' self time per function.
// PROFILE=0: the same run without the profiler, for the CPU figure alone (the profiler itself
// costs workerd about three times the CPU). The samples are the isolate thread's time, SQLite's
// waits on the disk included, so their sum exceeds the CPU figure.
import { startBench } from './lib/bench';
import { call, sleep } from './lib/http';
import { type Profile, printProfile, profile } from './lib/inspector';
import { cpuMs } from './lib/proc';
import { HUBS, WORKER } from './lib/runtime';
import { type Api, escalationCycles, openQueues } from './usage';

const escalations = Number(process.argv[2] ?? 40);
const queues = Number(process.argv[3] ?? 50);
const b = await startBench();
try {
  const account = await b.account();
  const api: Api = (method, path, body, token = account.token) =>
    call(b.runtime.url, method, path, { token, ...(body !== undefined ? { body } : {}) });
  const subs = await openQueues(api, { base: b.runtime.url, token: account.token, n: queues });
  await escalationCycles(api, account.sessionId, 5); // warm
  await sleep(2_000);
  const pid = b.runtime.pid() as number;
  const c0 = cpuMs(pid);
  const run = async () => {
    await escalationCycles(api, account.sessionId, escalations);
    // The assessments and their deliveries that follow the last escalation.
    await sleep(2_000);
  };
  let worker: Profile | undefined;
  let hubs: Profile | undefined;
  if (process.env.PROFILE === '0') await run();
  else
    worker = await profile(b.runtime.inspectorPort, WORKER, async () => {
      hubs = await profile(b.runtime.inspectorPort, HUBS, run);
    });
  const cpu = cpuMs(pid) - c0;
  for (const s of subs) s.close();
  console.log(
    `${escalations} escalations, ${queues} queues open: workerd CPU ${cpu.toFixed(0)} ms = ${(cpu / escalations).toFixed(1)} ms per escalation (profiling ${process.env.PROFILE === '0' ? 'off' : 'on'})`,
  );
  for (const [name, p] of [
    ['Worker', worker],
    ['hubs', hubs],
  ] as const)
    if (p) printProfile(name, p, (ms) => `${(ms / escalations).toFixed(1)} ms per escalation`);
} finally {
  await b.stop();
}
