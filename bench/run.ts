// npm run bench: Switchboard side by side with its peers, in one run, on one machine, written to
// BENCHMARKS.md. Each suite is a module exporting a `Suite` (bench/lib/bench.ts); to add one,
// write bench/<name>.ts and add it to SUITES below.
//   BENCH_QUICK=1        a smoke run (few samples: not worth publishing)
//   BENCH_REPEATS=n      repeats per comparison (default 3)
//   BENCH_ONLY=a,b       only these suites (then the report goes to .data/bench/BENCHMARKS.partial.md)
//   BENCH_OUT=path       where to write the report
//   BENCH_DATABASE=embedded  use embedded PGlite even when a server answers at 127.0.0.1:5432
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleSuite } from './bundle';
import { busSuite } from './bus';
import { createSuite } from './create';
import { e2eSuite } from './e2e';
import { executorSuite } from './executor';
import { type Bench, log, type Row, type Suite, type SuiteResult, startBench } from './lib/bench';
import { sleep } from './lib/http';
import { cpuMs, loadAverage } from './lib/proc';
import { root } from './lib/runtime';
import { replaySuite } from './replay';
import { scaleSuite } from './scale';
import { slaTimersSuite } from './sla-timers';
import { tokenStreamSuite } from './token-stream';
import { usageSuite } from './usage';
import { webhooksSuite } from './webhooks';

const SUITES: Suite[] = [
  busSuite,
  e2eSuite,
  createSuite,
  replaySuite,
  scaleSuite,
  usageSuite,
  slaTimersSuite,
  webhooksSuite,
  tokenStreamSuite,
  executorSuite,
  bundleSuite,
];

const only = process.env.BENCH_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const suites = only ? SUITES.filter((s) => only.includes(s.name)) : SUITES;
if (only && suites.length !== only.length) {
  throw new Error(`unknown suite in BENCH_ONLY; suites: ${SUITES.map((s) => s.name).join(', ')}`);
}
const out = process.env.BENCH_OUT ?? (only ? '.data/bench/BENCHMARKS.partial.md' : 'BENCHMARKS.md');
const command = [
  process.env.BENCH_QUICK === '1' ? 'BENCH_QUICK=1' : '',
  process.env.BENCH_REPEATS ? `BENCH_REPEATS=${process.env.BENCH_REPEATS}` : '',
  only ? `BENCH_ONLY=${only.join(',')}` : '',
  process.env.BENCH_DATABASE ? `BENCH_DATABASE=${process.env.BENCH_DATABASE}` : '',
  process.env.DATABASE_URL ? 'DATABASE_URL=…' : '',
  'npm run bench',
]
  .filter(Boolean)
  .join(' ');

const results: { suite: Suite; result?: SuiteResult; error?: string }[] = [];
let bench: Bench | undefined;
// Interrupted: stop what we started (workerd, the database child, the peer, the client processes).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void (bench?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}
try {
  bench = await startBench();
  for (const suite of suites) {
    log(`── ${suite.name}`);
    try {
      results.push({ suite, result: await suite.run(bench) });
    } catch (err) {
      log(`suite ${suite.name} failed: ${(err as Error).stack ?? String(err)}`);
      results.push({ suite, error: (err as Error).message ?? String(err) });
    }
    const pid = bench.runtime.pid() as number;
    const c0 = cpuMs(pid);
    await sleep(3_000);
    log(`workerd CPU while idle after ${suite.name}: ${((cpuMs(pid) - c0) / 30).toFixed(1)}% of a core`);
  }
} finally {
  await bench?.stop();
}
const b = bench as Bench;
const loadAfter = loadAverage();

const cell = (s: string) => s.replace(/\|/g, '\\|');
const where = `\`${command}\` · ${b.machine.short}`;
const rowLine = (r: Row) =>
  `| ${cell(r.comparison)} | ${cell(r.switchboard)} | ${cell(r.peer)} | ${r.ratio} | ${r.target} | ${r.result === 'reported' ? '—' : `**${r.result}**`}${r.cause ? `: ${cell(r.cause)}` : ''} | ${where} |`;
const rows = results.flatMap((r) => r.result?.rows ?? []);
const failed = results.filter((r) => r.error);

const md = `# Benchmarks

Written by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString()}. Every comparison was
measured in this one run, on this machine, over loopback, Switchboard and its peer interleaved.
${b.quick ? '\n**BENCH_QUICK=1: a smoke run with few samples; not figures to publish.**\n' : ''}
## Machine, command, database

| | |
| --- | --- |
| command | \`${command}\` |
| CPU | ${b.machine.cpu} |
| memory | ${b.machine.memory} |
| OS | ${b.machine.kernel} |
| Node (harness, clients, peer) | ${b.machine.node} |
| workerd | ${b.machine.workerd}: the production bundle (\`wrangler deploy --dry-run\`) in Miniflare, clients on workerd's own socket (no dev proxy) |
| Postgres | ${b.database.label}; the Worker reaches it through the Neon driver and the local bridge, the peer through a \`pg\` pool |
| Redis | ${b.machine.redis} at 127.0.0.1:6379 |
| load average | before ${b.machine.loadBefore}, after ${loadAfter}${Number(b.machine.loadBefore.split(' ')[0]) > 0.5 ? ' (the machine was shared with other work during the run: read the p99 figures with that in mind)' : ''} |
| repeats | ${b.repeats}; each figure is the median over repeats of the per-repeat figure |

## Summary

Each row: Switchboard's figure, its peer's in the same run, the target, and whether it was met;
a missed row names its measured cause (the sections below have the breakdowns).

| comparison | Switchboard | peer (same run) | ratio | target | result | measured with |
| --- | --- | --- | --- | --- | --- | --- |
${rows.map(rowLine).join('\n')}
${failed.length ? `\nSuites that failed in this run: ${failed.map((f) => `${f.suite.name} (${cell(f.error ?? '')})`).join('; ')}.\n` : ''}
${results
  .map((r) => r.result?.section)
  .filter(Boolean)
  .join('\n')}`;

// Where the time goes is written by hand (it needs judgement), next to the code.
const notes = (() => {
  try {
    return `\n${readFileSync(resolve(root, 'bench/NOTES.md'), 'utf8')}`;
  } catch {
    return '';
  }
})();
writeFileSync(resolve(root, out), `${md}${notes}`);
log(`wrote ${out}`);
process.exit(failed.length ? 1 : 0);
