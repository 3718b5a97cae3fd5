// Executor overhead per node: Switchboard's pure executor (worker/graphs/executor.ts) with the fake
// provider, against @langchain/langgraph running the same chain with a fake model, both in this
// Node process. Each node is an LLM call whose answer is the same deterministic fake completion.

import { FakeListChatModel } from '@langchain/core/utils/testing';
import { Annotation, END, MemorySaver, START, StateGraph } from '@langchain/langgraph';
import { execute } from '../worker/graphs/executor';
import type { Graph } from '../worker/graphs/graph-schema';
import { createFakeProvider, fakeCompletion } from '../worker/providers/fake-provider';
import { createToolRegistry } from '../worker/tools/registry';
import type { Bench, Row, Suite } from './lib/bench';
import { median, percentile } from './lib/http';

export const NODES = 20;

function chainGraph(n: number): Graph {
  const nodes = Array.from({ length: n }, (_, i) => ({
    id: `n${i}`,
    type: 'llm' as const,
    prompt: `Step ${i}: summarise {{topic}} given {{prev}}`,
    output_key: i === n - 1 ? 'answer' : 'prev',
  }));
  const edges = nodes.map((node, i) => ({ from: node.id, to: i === n - 1 ? '__end__' : `n${i + 1}` }));
  return { entry: 'n0', nodes, edges } as unknown as Graph;
}

const render = (i: number, s: { topic: string; prev: string }) =>
  `Step ${i}: summarise ${s.topic} given ${s.prev}`;

async function switchboardRun(graph: Graph, persist: boolean) {
  const deps = { llm: createFakeProvider(), tools: createToolRegistry(), now: () => Date.now() };
  let sink = 0;
  const result = await execute({
    graph,
    checkpoint: { next: graph.entry, state: { topic: 'vpn drops', prev: '' } },
    signal: new AbortController().signal,
    deps,
    // `persist` serialises what the hub would store and stream for each step.
    onStep: persist
      ? (events, checkpoint) => {
          sink += JSON.stringify(events).length + JSON.stringify(checkpoint).length;
        }
      : () => {},
  });
  if (result.status !== 'completed') throw new Error(`executor run ended ${result.status}`);
  return sink;
}

const LgState = Annotation.Root({
  topic: Annotation<string>(),
  prev: Annotation<string>(),
  answer: Annotation<string>(),
});

function langGraph(n: number, mode: 'function' | 'chat-model', checkpointer: boolean) {
  const model = new FakeListChatModel({ responses: ['unused'] });
  let g = new StateGraph(LgState) as unknown as StateGraph<typeof LgState.spec>;
  for (let i = 0; i < n; i++) {
    const key = i === n - 1 ? 'answer' : 'prev';
    g = g.addNode(`n${i}`, async (s: typeof LgState.State) => {
      const prompt = render(i, s);
      let text: string;
      if (mode === 'function') text = fakeCompletion({ prompt });
      else {
        // A LangChain chat model answering the same text (what a LangGraph user would write).
        model.responses = [fakeCompletion({ prompt })];
        model.i = 0;
        text = String((await model.invoke(prompt)).content);
      }
      return { [key]: text };
    }) as unknown as typeof g;
  }
  // biome-ignore lint/suspicious/noExplicitAny: LangGraph's node-name generics do not follow a loop-built graph
  const b = g as any;
  b.addEdge(START, 'n0');
  for (let i = 0; i < n - 1; i++) b.addEdge(`n${i}`, `n${i + 1}`);
  b.addEdge(`n${n - 1}`, END);
  return b.compile(checkpointer ? { checkpointer: new MemorySaver() } : {});
}

export interface ExecutorRow {
  name: string;
  perNodeUs: { p50: number; p99: number; runs: number };
}

async function measure(name: string, runOnce: (i: number) => Promise<unknown>, runs: number, warmup: number) {
  for (let i = 0; i < warmup; i++) await runOnce(i);
  const perNode: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await runOnce(i);
    perNode.push(((performance.now() - t) * 1000) / NODES);
  }
  perNode.sort((a, b) => a - b);
  return { name, perNodeUs: { p50: percentile(perNode, 50), p99: percentile(perNode, 99), runs } };
}

/** Repeats each measurement `repeats` times (interleaved) and keeps the median of the medians. */
export async function benchExecutor(repeats = 3, runs = 300): Promise<ExecutorRow[]> {
  const graph = chainGraph(NODES);
  const lgPlain = langGraph(NODES, 'function', false);
  const lgSaver = langGraph(NODES, 'function', true);
  const lgModel = langGraph(NODES, 'chat-model', false);
  const input = { topic: 'vpn drops', prev: '' };
  // Both sides must compute the same answer.
  const lgOut = await lgPlain.invoke(input);
  const sbRes = await execute({
    graph,
    checkpoint: { next: graph.entry, state: { ...input } },
    signal: new AbortController().signal,
    deps: { llm: createFakeProvider(), tools: createToolRegistry(), now: () => Date.now() },
    onStep: () => {},
  });
  if (sbRes.status !== 'completed' || sbRes.state.answer !== lgOut.answer) {
    throw new Error('executor and LangGraph disagree on the answer; the comparison would be unfair');
  }
  const cases: [string, (i: number) => Promise<unknown>][] = [
    ['Switchboard executor (events + checkpoint serialised per step)', () => switchboardRun(graph, true)],
    ['Switchboard executor (onStep no-op)', () => switchboardRun(graph, false)],
    ['LangGraph, node calls the fake function, no checkpointer', () => lgPlain.invoke(input)],
    [
      'LangGraph, node calls the fake function, MemorySaver checkpointer',
      (i) => lgSaver.invoke(input, { configurable: { thread_id: `t${i}-${Math.random()}` } }),
    ],
    ['LangGraph, node calls a LangChain FakeListChatModel, no checkpointer', () => lgModel.invoke(input)],
  ];
  const results = new Map<string, ExecutorRow[]>();
  for (let r = 0; r < repeats; r++) {
    for (const [name, fn] of cases) {
      const row = await measure(name, fn, runs, r === 0 ? 30 : 5);
      results.set(name, [...(results.get(name) ?? []), row]);
    }
  }
  return cases.map(([name]) => {
    const rows = results.get(name) ?? [];
    return {
      name,
      perNodeUs: {
        p50: median(rows.map((x) => x.perNodeUs.p50)),
        p99: median(rows.map((x) => x.perNodeUs.p99)),
        runs: rows.reduce((a, x) => a + x.perNodeUs.runs, 0),
      },
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await benchExecutor(Number(process.env.BENCH_REPEATS ?? 3))) {
    console.log(
      `${row.perNodeUs.p50.toFixed(1).padStart(8)} µs/node p50  ${row.perNodeUs.p99.toFixed(1).padStart(8)} p99  ${row.name}`,
    );
  }
}

/** The suite: the executor against LangGraph, and a graph run end to end through the hub. */
export const executorSuite: Suite = {
  name: 'executor',
  async run(b: Bench) {
    const rowsOut = await benchExecutor(b.repeats, b.quick ? 50 : 300);
    const sb = rowsOut[0];
    const lg = rowsOut[2];
    const rows: Row[] = [];
    if (sb && lg) {
      const ratio = sb.perNodeUs.p50 / lg.perNodeUs.p50;
      rows.push({
        comparison: `Executor overhead per node, p50 (fake model, ${NODES}-node chain, in Node)`,
        switchboard: `${sb.perNodeUs.p50.toFixed(1)} µs`,
        peer: `LangGraph ${lg.perNodeUs.p50.toFixed(1)} µs`,
        ratio: `${ratio.toFixed(2)}×`,
        target: '≤ 0.5×',
        result: ratio <= 0.5 ? 'met' : 'missed',
      });
    }
    const section = `## Executor overhead per node

A chain of ${NODES} \`llm\` nodes, each answered by the deterministic fake completion, in Node 22 in
the harness process (the executor is pure TypeScript, imported with tsx). Both sides compute the
same final answer (checked). Per node = run time / ${NODES}; ${b.repeats} repeats × ${b.quick ? 50 : 300} runs.

| implementation | µs per node p50 | µs per node p99 |
| --- | --- | --- |
${rowsOut.map((r) => `| ${r.name} | ${r.perNodeUs.p50.toFixed(1)} | ${r.perNodeUs.p99.toFixed(1)} |`).join('\n')}
`;
    return { rows, section };
  },
};
