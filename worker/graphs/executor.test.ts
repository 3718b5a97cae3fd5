import { describe, expect, it } from 'vitest';
import { createFakeProvider } from '../providers/fake-provider';
import { LlmError, type LlmProvider } from '../providers/llm-provider';
import { createToolRegistry } from '../tools/registry';
import { type Tool, ToolError } from '../tools/tool';
import { type Checkpoint, type ExecuteOptions, type ExecutorEvent, execute } from './executor';
import type { Graph } from './graph-schema';
import { validateGraph } from './validate-graph';

const EXTRA_TOOLS = ['count', 'hang', 'stubborn'];

function graphOf(input: unknown): Graph {
  const result = validateGraph(input, {
    toolNames: ['echo', 'http_get', 'json_path', 'fail', ...EXTRA_TOOLS],
  });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.graph;
}

const start = (state: Record<string, unknown> = {}, next = 'a'): Checkpoint => ({ next, state });
const live = () => new AbortController().signal;

/**
 * A test harness: counts node runs, records every onStep call, and keeps a fake clock. Its `run`
 * executes a graph with these, a live signal, and any option the test sets itself.
 */
function harness(options: { llm?: LlmProvider; extra?: Tool[] } = {}) {
  const runs = new Map<string, number>();
  const toolSignals: AbortSignal[] = [];
  const countTool: Tool = {
    name: 'count',
    async run(args) {
      const key = String(args.key);
      runs.set(key, (runs.get(key) ?? 0) + 1);
      return { key, n: runs.get(key) };
    },
  };
  const hangTool: Tool = {
    name: 'hang',
    run: (_args, ctx) =>
      new Promise((_resolve, reject) => {
        toolSignals.push(ctx.signal);
        ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
      }),
  };
  // Ignores its signal entirely, to prove cancel does not wait for it.
  const stubbornTool: Tool = { name: 'stubborn', run: () => new Promise(() => undefined) };
  let clock = 1000;
  const steps: { events: ExecutorEvent[]; checkpoint: Checkpoint }[] = [];
  const deps = {
    llm: options.llm ?? createFakeProvider(),
    tools: createToolRegistry([countTool, hangTool, stubbornTool, ...(options.extra ?? [])]),
    now: () => {
      clock += 5;
      return clock;
    },
  };
  const onStep: ExecuteOptions['onStep'] = (events, checkpoint) => {
    steps.push({ events, checkpoint });
  };
  const events = () => steps.flatMap((s) => s.events);
  const types = () => events().map((e) => `${e.type}:${'node_id' in e ? e.node_id : `${e.from}->${e.to}`}`);
  const run = (graph: Graph, checkpoint = start(), options: Partial<ExecuteOptions> = {}) =>
    execute({ graph, checkpoint, signal: live(), deps, onStep, ...options });
  return { runs, toolSignals, deps, onStep, steps, events, types, run };
}

const countChain = (ids: string[]) =>
  graphOf({
    entry: ids[0],
    nodes: ids.map((id) => ({ id, type: 'tool', tool: 'count', args: { key: id }, output_key: id })),
    edges: ids.slice(0, -1).map((id, i) => ({ from: id, to: ids[i + 1] })),
  });

/** A graph of one http_get node, "get", that stores its answer under `status`. */
const httpGetGraph = (url: string) =>
  graphOf({
    entry: 'get',
    nodes: [{ id: 'get', type: 'tool', tool: 'http_get', args: { url }, output_key: 'status' }],
    edges: [],
  });

/** A fetch that records every URL it is asked for and gives `answer()`. */
function recordingFetch(answer: () => Response) {
  const urls: string[] = [];
  const fetch = (async (input: RequestInfo | URL) => {
    urls.push(String(input));
    return answer();
  }) as typeof globalThis.fetch;
  return { urls, fetch };
}

describe('execute', () => {
  it('runs a linear graph, emitting events per node and ending at __end__', async () => {
    const graph = graphOf({
      entry: 'a',
      nodes: [
        { id: 'a', type: 'transform', set: { greeting: 'hi {{name}}', copy: '{{profile}}' } },
        { id: 'b', type: 'llm', prompt: 'Say {{greeting}}', system: 'You are {{name}}', output_key: 'said' },
        {
          id: 'c',
          type: 'tool',
          tool: 'echo',
          args: { said: '{{said}}', n: '{{profile.n}}' },
          output_key: 'echoed',
        },
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
        { from: 'c', to: '__end__' },
      ],
    });
    const h = harness();
    const result = await h.run(graph, start({ name: 'Ada', profile: { n: 2 } }));

    expect(result.status).toBe('completed');
    if (result.status !== 'completed') return;
    const said = (await createFakeProvider().complete({ prompt: 'Say hi Ada', system: 'You are Ada' })).text;
    expect(result.state).toEqual({
      name: 'Ada',
      profile: { n: 2 },
      greeting: 'hi Ada',
      copy: { n: 2 },
      said,
      echoed: { said, n: 2 },
    });
    expect(h.types()).toEqual([
      'node_started:a',
      'node_completed:a',
      'edge_traversed:a->b',
      'node_started:b',
      'node_completed:b',
      'edge_traversed:b->c',
      'node_started:c',
      'node_completed:c',
      'edge_traversed:c->__end__',
    ]);
    // One onStep per start and one per completion, the latter carrying the new checkpoint.
    expect(h.steps.map((s) => s.events.length)).toEqual([1, 2, 1, 2, 1, 2]);
    expect(h.steps[1]?.checkpoint).toEqual({
      next: 'b',
      state: expect.objectContaining({ greeting: 'hi Ada' }),
    });
    expect(h.steps[5]?.checkpoint.next).toBe('__end__');
    const completed = h.events().find((e) => e.type === 'node_completed' && e.node_id === 'b');
    expect(completed).toMatchObject({ duration_ms: 5, state: { said } });
    const plain = h.events().find((e) => e.type === 'edge_traversed');
    expect(plain && 'condition_result' in plain).toBe(false);
  });

  it('snapshots state in node_completed and never mutates the given checkpoint', async () => {
    const graph = countChain(['a', 'b']);
    const h = harness();
    const checkpoint = start({ keep: 1 });
    await h.run(graph, checkpoint);
    expect(checkpoint).toEqual({ next: 'a', state: { keep: 1 } });
    const first = h.events().find((e) => e.type === 'node_completed' && e.node_id === 'a');
    expect(first?.type === 'node_completed' && Object.keys(first.state)).toEqual(['keep', 'a']);
  });

  it('treats a node without an outgoing edge as the end', async () => {
    const graph = graphOf({ entry: 'a', nodes: [{ id: 'a', type: 'transform', set: { x: 1 } }], edges: [] });
    const h = harness();
    const result = await h.run(graph);
    expect(result).toEqual({ status: 'completed', state: { x: 1 } });
    expect(h.events().at(-1)).toEqual({ type: 'edge_traversed', from: 'a', to: '__end__' });
  });

  describe('branching', () => {
    const graph = graphOf({
      entry: 'a',
      nodes: [
        { id: 'a', type: 'transform', set: {} },
        { id: 'vpn', type: 'transform', set: { went: 'vpn' } },
        { id: 'other', type: 'transform', set: { went: 'other' } },
      ],
      edges: [
        {
          from: 'a',
          branches: [
            { when: { field_equals: { field: 'product', value: 'vpn' } }, to: 'vpn' },
            { when: { field_exists: 'urgent' }, to: '__end__' },
          ],
          default: 'other',
        },
      ],
    });

    it.each([
      {
        name: 'follows the matching branch with condition_result true',
        given: { product: 'vpn' },
        to: 'vpn',
        matched: true,
        state: { product: 'vpn', went: 'vpn' },
      },
      {
        name: 'can branch straight to __end__',
        given: { urgent: true },
        to: '__end__',
        matched: true,
        state: { urgent: true },
      },
      {
        name: 'takes the default with condition_result false',
        given: { product: 'dns' },
        to: 'other',
        matched: false,
        state: { product: 'dns', went: 'other' },
      },
    ])('$name', async ({ given, to, matched, state }) => {
      const h = harness();
      expect(await h.run(graph, start(given))).toEqual({ status: 'completed', state });
      expect(h.events()).toContainEqual({ type: 'edge_traversed', from: 'a', to, condition_result: matched });
    });
  });

  describe('tool errors', () => {
    it('routes a failed tool through its tool_error branch to __end__', async () => {
      const graph = graphOf({
        entry: 'a',
        nodes: [
          {
            id: 'a',
            type: 'tool',
            tool: 'fail',
            args: { message: 'status page down' },
            output_key: 'status',
          },
          { id: 'b', type: 'transform', set: { reached: true } },
        ],
        edges: [{ from: 'a', branches: [{ when: { tool_error: true }, to: '__end__' }], default: 'b' }],
      });
      const h = harness();
      const result = await h.run(graph, start({ q: 1 }));
      expect(result).toEqual({ status: 'completed', state: { q: 1 } });
      expect(h.events()).toContainEqual({
        type: 'edge_traversed',
        from: 'a',
        to: '__end__',
        condition_result: true,
      });
      const completed = h.events().find((e) => e.type === 'node_completed');
      expect(completed).toMatchObject({
        node_id: 'a',
        tool_error: expect.stringContaining('status page down'),
      });
    });

    it('takes the tool_error: false branch and skips tool_error: true when the tool succeeds', async () => {
      const graph = graphOf({
        entry: 'a',
        nodes: [
          { id: 'a', type: 'tool', tool: 'echo', args: { ok: true }, output_key: 'r' },
          { id: 'b', type: 'transform', set: { reached: 'b' } },
        ],
        edges: [
          {
            from: 'a',
            branches: [
              { when: { tool_error: true }, to: '__end__' },
              { when: { tool_error: false }, to: 'b' },
            ],
            default: '__end__',
          },
        ],
      });
      const h = harness();
      const result = await h.run(graph);
      expect(result).toMatchObject({ status: 'completed', state: { r: { ok: true }, reached: 'b' } });
    });

    it('fails the run when no tool_error branch handles the failure', async () => {
      const graph = graphOf({
        entry: 'a',
        nodes: [
          { id: 'a', type: 'transform', set: { before: true } },
          { id: 'lookup', type: 'tool', tool: 'fail', args: { message: 'nope' } },
          { id: 'c', type: 'transform', set: {} },
        ],
        edges: [
          { from: 'a', to: 'lookup' },
          { from: 'lookup', branches: [{ when: { field_exists: 'x' }, to: 'c' }], default: 'c' },
        ],
      });
      const h = harness();
      const result = await h.run(graph);
      expect(result).toMatchObject({
        status: 'failed',
        node_id: 'lookup',
        code: 'node_failed',
        checkpoint: { next: 'lookup', state: { before: true } },
      });
      if (result.status === 'failed') {
        expect(result.message).toContain('"lookup"');
        expect(result.message).toContain('nope');
      }
      expect(h.types().at(-1)).toBe('node_started:lookup');
    });
  });

  it('fails the run when the LLM fails, naming the node and the error', async () => {
    const llm: LlmProvider = {
      name: 'broken',
      complete: async () => {
        throw new LlmError('rate_limited', 'slow down', { status: 429 });
      },
    };
    const graph = graphOf({
      entry: 'a',
      nodes: [{ id: 'a', type: 'llm', prompt: 'x', output_key: 'o' }],
      edges: [{ from: 'a', to: '__end__' }],
    });
    const h = harness({ llm });
    const result = await h.run(graph);
    expect(result).toMatchObject({
      status: 'failed',
      node_id: 'a',
      code: 'node_failed',
      checkpoint: { next: 'a' },
    });
    if (result.status === 'failed') expect(result.message).toMatch(/node "a".*rate_limited.*slow down/);
  });

  describe('human input', () => {
    const graph = graphOf({
      entry: 'ask',
      nodes: [
        { id: 'ask', type: 'human_input', prompt: 'Which product, {{user}}?', output_key: 'product' },
        { id: 'answer', type: 'llm', prompt: 'Help with {{product}}', output_key: 'answer' },
      ],
      edges: [{ from: 'ask', to: 'answer' }],
    });

    it('pauses, then resumes with the input stored under output_key', async () => {
      const h = harness();
      const paused = await h.run(graph, start({ user: 'Ada' }, 'ask'));
      expect(paused).toEqual({
        status: 'paused',
        node_id: 'ask',
        prompt: 'Which product, Ada?',
        checkpoint: { next: 'ask', state: { user: 'Ada' } },
      });
      expect(h.steps).toHaveLength(1);
      expect(h.steps[0]?.events).toEqual([
        { type: 'node_started', node_id: 'ask' },
        { type: 'graph_paused', node_id: 'ask', prompt: 'Which product, Ada?' },
      ]);
      if (paused.status !== 'paused') return;

      const h2 = harness();
      const resumed = await h2.run(graph, { ...paused.checkpoint, resume_input: 'vpn' });
      expect(resumed).toMatchObject({ status: 'completed', state: { user: 'Ada', product: 'vpn' } });
      expect(h2.types()).toEqual([
        'node_completed:ask',
        'edge_traversed:ask->answer',
        'node_started:answer',
        'node_completed:answer',
        'edge_traversed:answer->__end__',
      ]);
      expect(h2.steps[0]?.checkpoint).toEqual({ next: 'answer', state: { user: 'Ada', product: 'vpn' } });
      expect(h2.steps[0]?.checkpoint).not.toHaveProperty('resume_input');
    });

    it('accepts any JSON as resume input, including null and objects', async () => {
      for (const input of [null, { product: 'vpn', urgent: true }, [1, 2], 0]) {
        const h = harness();
        const result = await h.run(graph, { next: 'ask', state: {}, resume_input: input });
        expect(result).toMatchObject({ status: 'completed', state: { product: input } });
      }
    });

    it('pauses again when a loop comes back to the human node', async () => {
      const loop = graphOf({
        entry: 'ask',
        nodes: [
          { id: 'ask', type: 'human_input', prompt: 'Again?', output_key: 'reply' },
          { id: 'note', type: 'transform', set: { last: '{{reply}}' } },
        ],
        edges: [
          { from: 'ask', to: 'note' },
          { from: 'note', to: 'ask' },
        ],
      });
      const h = harness();
      const result = await h.run(loop, { next: 'ask', state: {}, resume_input: 'one' });
      expect(result).toMatchObject({
        status: 'paused',
        node_id: 'ask',
        checkpoint: { next: 'ask', state: { last: 'one' } },
      });
      if (result.status === 'paused') expect(result.checkpoint).not.toHaveProperty('resume_input');
    });
  });

  describe('restart from a checkpoint', () => {
    /** Simulates a hub that dies: onStep "commits" checkpoints until a given call, then throws. */
    function crashingStore(crashOnCall: number) {
      let calls = 0;
      let saved: Checkpoint | undefined;
      const onStep: ExecuteOptions['onStep'] = (_events, checkpoint) => {
        calls++;
        if (calls === crashOnCall) throw new Error('hub evicted');
        saved = checkpoint;
      };
      return { onStep, saved: () => saved };
    }

    it('continues without repeating finished nodes', async () => {
      const graph = countChain(['a', 'b', 'c', 'd']);
      const h = harness();
      // Calls: 1 start a, 2 done a, 3 start b, 4 done b, 5 start c -> crash before c runs.
      const store = crashingStore(5);
      await expect(h.run(graph, start(), { onStep: store.onStep })).rejects.toThrow('hub evicted');
      expect(Object.fromEntries(h.runs)).toEqual({ a: 1, b: 1 });
      const saved = store.saved();
      expect(saved?.next).toBe('c');

      const result = await h.run(graph, saved ?? start());
      expect(result.status).toBe('completed');
      expect(Object.fromEntries(h.runs)).toEqual({ a: 1, b: 1, c: 1, d: 1 });
      expect(h.types()[0]).toBe('node_started:c');
      if (result.status === 'completed') expect(Object.keys(result.state)).toEqual(['a', 'b', 'c', 'd']);
    });

    it('re-runs only the node whose completion was not committed', async () => {
      const graph = countChain(['a', 'b', 'c']);
      const h = harness();
      // Call 4 is b's completion: b ran, but its checkpoint never landed.
      const store = crashingStore(4);
      await expect(h.run(graph, start(), { onStep: store.onStep })).rejects.toThrow('hub evicted');
      expect(store.saved()?.next).toBe('b');
      await h.run(graph, store.saved() ?? start());
      expect(Object.fromEntries(h.runs)).toEqual({ a: 1, b: 2, c: 1 });
    });

    it('completes immediately from an __end__ checkpoint', async () => {
      const h = harness();
      const result = await h.run(countChain(['a']), { next: '__end__', state: { done: 1 } });
      expect(result).toEqual({ status: 'completed', state: { done: 1 } });
      expect(h.steps).toHaveLength(0);
      expect(h.runs.size).toBe(0);
    });
  });

  describe('cancellation', () => {
    it('aborts an in-flight LLM call and returns cancelled promptly', async () => {
      let seen: AbortSignal | undefined;
      const inner = createFakeProvider({ delayMs: 60_000 });
      const controller = new AbortController();
      const llm: LlmProvider = {
        name: 'spy',
        complete: (req) => {
          seen = req.signal;
          // Cancel while the provider call is in flight.
          setTimeout(() => controller.abort(new Error('cancel')), 1);
          return inner.complete(req);
        },
      };
      const graph = graphOf({
        entry: 'a',
        nodes: [
          { id: 'a', type: 'transform', set: { x: 1 } },
          { id: 'b', type: 'llm', prompt: 'slow', output_key: 'o' },
        ],
        edges: [{ from: 'a', to: 'b' }],
      });
      const h = harness({ llm });
      // No clock here: a cancel that did not abort the call would hang until the test timeout.
      const result = await h.run(graph, start(), { signal: controller.signal });
      expect(result).toEqual({ status: 'cancelled', checkpoint: { next: 'b', state: { x: 1 } } });
      expect(seen?.aborted).toBe(true);
      expect(h.types().at(-1)).toBe('node_started:b');
    });

    /** Runs a graph of the one tool and cancels it while the tool is in flight. */
    async function cancelDuring(tool: string) {
      const graph = graphOf({ entry: 'a', nodes: [{ id: 'a', type: 'tool', tool, args: {} }], edges: [] });
      const h = harness();
      const controller = new AbortController();
      const pending = h.run(graph, start(), { signal: controller.signal });
      await new Promise((r) => setTimeout(r, 1));
      controller.abort();
      return { result: await pending, h };
    }

    it('aborts an in-flight tool call through its context signal', async () => {
      const { result, h } = await cancelDuring('hang');
      expect(result).toMatchObject({ status: 'cancelled', checkpoint: { next: 'a' } });
      expect(h.toolSignals[0]?.aborted).toBe(true);
    });

    it('does not wait for a tool that ignores the signal', async () => {
      const { result } = await cancelDuring('stubborn');
      expect(result).toMatchObject({ status: 'cancelled' });
    });

    it('returns cancelled without running anything when already aborted', async () => {
      const h = harness();
      const result = await h.run(countChain(['a']), start(), { signal: AbortSignal.abort() });
      expect(result).toEqual({ status: 'cancelled', checkpoint: { next: 'a', state: {} } });
      expect(h.steps).toHaveLength(0);
    });

    it('stops between nodes when aborted during onStep', async () => {
      const graph = countChain(['a', 'b']);
      const h = harness();
      const controller = new AbortController();
      const onStep: ExecuteOptions['onStep'] = (events, checkpoint) => {
        h.onStep(events, checkpoint);
        if (events[0]?.type === 'node_completed') controller.abort();
      };
      const result = await h.run(graph, start(), { signal: controller.signal, onStep });
      expect(result).toMatchObject({ status: 'cancelled', checkpoint: { next: 'b' } });
      expect(Object.fromEntries(h.runs)).toEqual({ a: 1 });
    });
  });

  it('fails a runaway loop after maxSteps', async () => {
    const graph = graphOf({
      entry: 'poll',
      nodes: [
        { id: 'poll', type: 'tool', tool: 'count', args: { key: 'poll' }, output_key: 'r' },
        { id: 'wait', type: 'transform', set: {} },
      ],
      edges: [
        { from: 'poll', branches: [{ when: { field_exists: 'never' }, to: '__end__' }], default: 'wait' },
        { from: 'wait', to: 'poll' },
      ],
    });
    const h = harness();
    const result = await h.run(graph, start({}, 'poll'), { maxSteps: 10 });
    expect(result).toMatchObject({ status: 'failed', code: 'node_failed', node_id: 'poll' });
    if (result.status === 'failed') expect(result.message).toContain('10 steps');
    expect(h.runs.get('poll')).toBe(5);
  });

  it('fails when the checkpoint names a node the graph does not have', async () => {
    const h = harness();
    const result = await h.run(countChain(['a']), start({}, 'zzz'));
    expect(result).toMatchObject({ status: 'failed', node_id: 'zzz' });
  });

  it('propagates onStep failures', async () => {
    const h = harness();
    await expect(
      h.run(countChain(['a']), start(), {
        onStep: async () => {
          throw new Error('storage full');
        },
      }),
    ).rejects.toThrow('storage full');
    expect(h.runs.size).toBe(0);
  });

  it('hands tools the injected fetch and allow-list', async () => {
    const graph = httpGetGraph('https://status.example.com/{{p}}');
    const { urls, fetch } = recordingFetch(
      () => new Response('{"up":true}', { headers: { 'content-type': 'application/json' } }),
    );
    const h = harness();
    const deps = { ...h.deps, fetch, allowHosts: ['*.example.com'] };
    const result = await h.run(graph, start({ p: 'vpn' }, 'get'), { deps });
    expect(result).toEqual({
      status: 'completed',
      state: { p: 'vpn', status: { status: 200, body: { up: true } } },
    });
    expect(urls).toEqual(['https://status.example.com/vpn']);

    const denied = await h.run(graph, start({ p: 'vpn' }, 'get'));
    expect(denied).toMatchObject({ status: 'failed', node_id: 'get' });
    if (denied.status === 'failed') expect(denied.message).toContain('allow-list');
  });

  it('percent-encodes every value put into an http_get URL, so state cannot change its path or host', async () => {
    const graph = httpGetGraph('https://status.example.com/p/{{p}}?q={{q}}');
    const { urls, fetch } = recordingFetch(() => new Response('ok'));
    const h = harness();
    const result = await h.run(graph, start({ p: '../admin#x', q: 'a&b=c @evil.com/' }, 'get'), {
      deps: { ...h.deps, fetch, allowHosts: ['status.example.com'] },
    });
    expect(result.status).toBe('completed');
    expect(urls).toEqual(['https://status.example.com/p/..%2Fadmin%23x?q=a%26b%3Dc%20%40evil.com%2F']);

    // A whole URL from state is a value like any other: encoded, it no longer parses as a URL.
    const refused = await h.run(httpGetGraph('{{u}}'), start({ u: 'https://evil.example.com/' }, 'get'), {
      deps: { ...h.deps, fetch, allowHosts: ['*.example.com'] },
    });
    expect(refused).toMatchObject({ status: 'failed', node_id: 'get' });
    if (refused.status === 'failed') expect(refused.message).toContain('not a valid URL');
    expect(urls).toHaveLength(1);
  });

  it("never puts an unexpected error's own text into the run: a reference to the log instead", async () => {
    const broken: Tool = {
      name: 'count',
      run: () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'x')")),
    };
    const h = harness({ extra: [broken] });
    const result = await h.run(countChain(['a']));
    expect(result).toMatchObject({ status: 'failed', node_id: 'a' });
    if (result.status === 'failed') {
      expect(result.message).toMatch(
        /^node "a" \(tool count\) failed: an internal error \(the log has it under reference [0-9a-f-]{36}\)$/,
      );
      expect(result.message).not.toContain('Cannot read');
    }
  });

  describe('limits', () => {
    const selfLoop = (set: Record<string, unknown>) =>
      graphOf({
        entry: 'a',
        nodes: [{ id: 'a', type: 'transform', set }],
        edges: [{ from: 'a', branches: [{ when: { field_exists: 'never' }, to: '__end__' }], default: 'a' }],
      });

    it('counts the steps of earlier calls (stepsBefore) toward the step limit', async () => {
      const h = harness();
      const result = await h.run(selfLoop({ x: '{{x}}' }), start({ x: 1 }), { maxSteps: 10, stepsBefore: 7 });
      expect(result).toMatchObject({ status: 'failed', code: 'node_failed', node_id: 'a' });
      if (result.status === 'failed') expect(result.message).toContain('step limit (10 steps)');
      expect(h.events().filter((e) => e.type === 'node_completed')).toHaveLength(3);
    });

    it('fails a node that would grow the state past the state limit, naming the limit', async () => {
      const h = harness();
      const result = await h.run(selfLoop({ x: '{{x}}{{x}}' }), start({ x: 'y'.repeat(100) }), {
        maxStateBytes: 1000,
      });
      expect(result).toMatchObject({ status: 'failed', code: 'node_failed', node_id: 'a' });
      if (result.status === 'failed')
        expect(result.message).toMatch(/over the state limit RUN_STATE_MAX_BYTES \(1000 bytes\)/);
      // 200, 400 and 800 characters fit; 1600 would not, and is never checkpointed or logged.
      const completed = h.events().filter((e) => e.type === 'node_completed');
      expect(completed.map((e) => String((e as unknown as { state: { x: string } }).state.x.length))).toEqual(
        ['200', '400', '800'],
      );
      expect(h.steps.every((s) => JSON.stringify(s.checkpoint.state).length <= 1000)).toBe(true);
    });

    it('fails a node whose rendered template would pass TEMPLATE_MAX_BYTES, before building it', async () => {
      const h = harness();
      // 9 × 20 KB would be 180 KB of prompt; the render stops past 32 KiB and nothing is sent.
      const graph = graphOf({
        entry: 'a',
        nodes: [{ id: 'a', type: 'llm', prompt: '{{x}}'.repeat(9), output_key: 'out' }],
        edges: [{ from: 'a', to: '__end__' }],
      });
      const result = await h.run(graph, start({ x: 'y'.repeat(20_000) }));
      expect(result).toMatchObject({ status: 'failed', code: 'node_failed', node_id: 'a' });
      if (result.status === 'failed') {
        expect(result.message).toBe(
          'node "a" would render a template over the template limit TEMPLATE_MAX_BYTES (32768 bytes, 32 KiB)',
        );
      }
      expect(h.events().filter((e) => e.type === 'node_completed')).toEqual([]);
    });

    it('applies the template limit to transforms, tool args and human prompts too', async () => {
      const cases = [
        { id: 'a', type: 'transform', set: { big: 'x{{x}}{{x}}' } },
        { id: 'a', type: 'tool', tool: 'echo', args: { text: '{{x}}+{{x}}' }, output_key: 'e' },
        { id: 'a', type: 'human_input', prompt: 'Is {{x}} {{x}}?', output_key: 'answer' },
      ];
      for (const node of cases) {
        const h = harness();
        const result = await h.run(
          graphOf({ entry: 'a', nodes: [node], edges: [{ from: 'a', to: '__end__' }] }),
          start({ x: 'y'.repeat(600) }),
          { maxTemplateBytes: 1000 },
        );
        expect(result, node.type).toMatchObject({ status: 'failed', code: 'node_failed', node_id: 'a' });
        if (result.status === 'failed') expect(result.message).toContain('TEMPLATE_MAX_BYTES (1000 bytes)');
      }
    });

    it('fails a resume whose input would put the state over the limit', async () => {
      const graph = graphOf({
        entry: 'ask',
        nodes: [{ id: 'ask', type: 'human_input', prompt: 'go', output_key: 'answer' }],
        edges: [{ from: 'ask', to: '__end__' }],
      });
      const h = harness();
      const result = await h.run(
        graph,
        { next: 'ask', state: {}, resume_input: 'z'.repeat(2000) },
        { maxStateBytes: 1000 },
      );
      expect(result).toMatchObject({ status: 'failed', node_id: 'ask' });
    });

    it('fails a tool whose output would nest the state deeper than the depth limit', async () => {
      let deep: unknown = 'bottom';
      for (let i = 0; i < 500; i++) deep = { d: deep };
      const deepTool: Tool = { name: 'deep', run: async () => deep as Record<string, unknown> };
      const h = harness({ extra: [deepTool] });
      const graph = validateGraph(
        {
          entry: 'a',
          nodes: [{ id: 'a', type: 'tool', tool: 'deep', args: {}, output_key: 'out' }],
          edges: [],
        },
        { toolNames: ['deep'] },
      );
      if (!graph.ok) throw new Error('invalid graph');
      const result = await h.run(graph.graph);
      expect(result).toMatchObject({ status: 'failed', node_id: 'a' });
      if (result.status === 'failed') expect(result.message).toMatch(/levels deep, the state limit/);
    });
  });

  it('strips NUL from LLM and tool output before it enters the state', async () => {
    const nulTool: Tool = {
      name: 'nul',
      run: async () => ({ 'ke\u0000y': ['a\u0000b'], lone: '\uD800x' }),
    };
    const llm: LlmProvider = { name: 'nul', complete: async () => ({ text: 'x\u0000y', model: 'nul' }) };
    const h = harness({ llm, extra: [nulTool] });
    const graph = validateGraph(
      {
        entry: 't',
        nodes: [
          { id: 't', type: 'tool', tool: 'nul', args: {}, output_key: 'tool' },
          { id: 'l', type: 'llm', prompt: 'hi', output_key: 'llm' },
        ],
        edges: [{ from: 't', to: 'l' }],
      },
      { toolNames: ['nul'] },
    );
    if (!graph.ok) throw new Error('invalid graph');
    const result = await h.run(graph.graph, start({}, 't'));
    expect(result).toEqual({
      status: 'completed',
      state: { tool: { key: ['ab'], lone: '\uFFFDx' }, llm: 'xy' },
    });
  });

  // Regression: "LLM output size unbounded in hub memory". The executor handed every streamed
  // piece on (to node_delta) with no bound; a provider that neither stops nor counts is now cut
  // off at the state limit, and the node fails naming it.
  it('cuts off a stream past the state limit even when the provider does not count, and fails naming it', async () => {
    const seen: { maxOutputBytes?: number; aborted: boolean }[] = [];
    const chatty: LlmProvider = {
      name: 'chatty',
      async complete(req) {
        const call = {
          ...(req.maxOutputBytes === undefined ? {} : { maxOutputBytes: req.maxOutputBytes }),
          aborted: false,
        };
        seen.push(call);
        // Streams 1 KiB pieces for ever, ignoring any bound, until its signal aborts.
        for (let i = 0; i < 100_000; i++) {
          if (req.signal?.aborted) {
            call.aborted = true;
            throw new LlmError('aborted', 'LLM call aborted');
          }
          req.onDelta?.('z'.repeat(1024));
          await Promise.resolve();
        }
        return { text: 'never', model: 'chatty' };
      },
    };
    const h = harness({ llm: chatty });
    const deltas: string[] = [];
    const result = await h.run(
      graphOf({
        entry: 'a',
        nodes: [
          {
            id: 'a',
            type: 'llm',
            prompt: 'go',
            output_key: 'out',
            stream: true,
            retry: { max_attempts: 3, initial_interval_ms: 0, retry_on: ['error', 'timeout', 'http_5xx'] },
          },
        ],
        edges: [],
      }),
      start(),
      { onDelta: (_n, t) => void deltas.push(t), maxStateBytes: 8 * 1024 },
    );
    expect(result).toMatchObject({
      status: 'failed',
      code: 'node_failed',
      message:
        'node "a" (llm) answered more than the state limit RUN_STATE_MAX_BYTES (8192 bytes, 8 KiB); the answer was not read further',
    });
    expect(deltas.join('').length).toBeLessThanOrEqual(8 * 1024);
    // The provider was told the bound, and its call was aborted once past it.
    expect(seen).toEqual([{ maxOutputBytes: 8 * 1024, aborted: true }]);
    // Over a limit is not worth retrying: no node_retrying, whatever the policy.
    expect(h.types()).toEqual(['node_started:a']);
  });

  describe('retries', () => {
    /** A tool that fails its first `fails` calls (per key) with `error`, then answers. */
    const flakyTool = (errorFor: (n: number) => Error | undefined): Tool => {
      let n = 0;
      return {
        name: 'flaky',
        run: async () => {
          n += 1;
          const err = errorFor(n);
          if (err) throw err;
          return { n };
        },
      };
    };
    const flakyGraph = (retry: unknown, extraEdge?: unknown) =>
      validateGraph(
        {
          entry: 'a',
          nodes: [
            {
              id: 'a',
              type: 'tool',
              tool: 'flaky',
              args: {},
              output_key: 'out',
              ...(retry ? { retry } : {}),
            },
          ],
          edges: extraEdge ? [extraEdge] : [],
        },
        { toolNames: ['flaky'] },
      );

    it('reports "retry at T" with the backoff instead of failing, then runs the next attempt from that checkpoint', async () => {
      const tool = flakyTool((n) =>
        n < 3 ? new ToolError('http_status', 'down', { status: 503 }) : undefined,
      );
      const h = harness({ extra: [tool] });
      const g = flakyGraph({ max_attempts: 3, initial_interval_ms: 100, backoff_coefficient: 2 });
      if (!g.ok) throw new Error('invalid');
      const first = await h.run(g.graph);
      expect(first).toMatchObject({ status: 'retrying', node_id: 'a', attempt: 1 });
      if (first.status !== 'retrying') return;
      // The clock moves 5 ms per read: the wait is counted from the failure.
      expect(first.next_attempt_at).toBe(1010 + 100);
      expect(first.checkpoint).toEqual({ next: 'a', state: {}, attempt: 1, retry_at: first.next_attempt_at });
      expect(h.steps.at(-1)?.events).toEqual([
        {
          type: 'node_retrying',
          node_id: 'a',
          attempt: 1,
          max_attempts: 3,
          error: 'node "a" (tool flaky) failed: http_status: down',
          next_attempt_at: first.next_attempt_at,
        },
      ]);
      expect(h.steps.at(-1)?.checkpoint).toEqual(first.checkpoint);

      const second = await h.run(g.graph, first.checkpoint);
      expect(second).toMatchObject({ status: 'retrying', attempt: 2 });
      if (second.status !== 'retrying') return;
      // 100 ms × 2: the second wait is twice the first.
      expect(second.next_attempt_at - (h.steps.at(-2)?.checkpoint.retry_at ?? 0)).toBeGreaterThan(0);
      const third = await h.run(g.graph, second.checkpoint);
      expect(third).toEqual({ status: 'completed', state: { out: { n: 3 } } });
      // Each attempt starts the node again, saying which attempt it is; the wait is gone from the checkpoint.
      expect(h.events().filter((e) => e.type === 'node_started')).toEqual([
        { type: 'node_started', node_id: 'a' },
        { type: 'node_started', node_id: 'a', attempt: 2 },
        { type: 'node_started', node_id: 'a', attempt: 3 },
      ]);
      expect(
        h.steps.find((s) => s.events[0]?.type === 'node_started' && s.events[0].attempt === 3)?.checkpoint,
      ).toEqual({
        next: 'a',
        state: {},
        attempt: 2,
      });
    });

    it('fails as before after the last attempt, or routes it through tool_error', async () => {
      const always = () => flakyTool(() => new ToolError('failed', 'nope'));
      const g = flakyGraph({ max_attempts: 2, initial_interval_ms: 0 });
      if (!g.ok) throw new Error('invalid');
      const h = harness({ extra: [always()] });
      const first = await h.run(g.graph);
      if (first.status !== 'retrying') throw new Error(`expected retrying, got ${first.status}`);
      expect(await h.run(g.graph, first.checkpoint)).toMatchObject({
        status: 'failed',
        node_id: 'a',
        message: 'node "a" (tool flaky) failed: failed: nope',
      });
      const routed = flakyGraph(
        { max_attempts: 2, initial_interval_ms: 0 },
        { from: 'a', branches: [{ when: { tool_error: true }, to: '__end__' }], default: '__end__' },
      );
      if (!routed.ok) throw new Error('invalid');
      const h2 = harness({ extra: [always()] });
      const r1 = await h2.run(routed.graph);
      if (r1.status !== 'retrying') throw new Error('expected retrying');
      expect(await h2.run(routed.graph, r1.checkpoint)).toEqual({ status: 'completed', state: {} });
      expect(h2.events().find((e) => e.type === 'node_completed')).toMatchObject({
        tool_error: 'node "a" (tool flaky) failed: failed: nope',
      });
    });

    it('retries only the kinds retry_on lists', async () => {
      const g = flakyGraph({ max_attempts: 5, retry_on: ['http_5xx'] });
      if (!g.ok) throw new Error('invalid');
      const h = harness({
        extra: [flakyTool(() => new ToolError('http_status', 'missing', { status: 404 }))],
      });
      expect(await h.run(g.graph)).toMatchObject({ status: 'failed' });
      expect(h.events().some((e) => e.type === 'node_retrying')).toBe(false);
    });

    it("waits at least a rate limit's Retry-After", async () => {
      const llm: LlmProvider = {
        name: 'limited',
        complete: async () => {
          throw new LlmError('rate_limited', 'slow down', { status: 429, retryAfterMs: 7000 });
        },
      };
      const h = harness({ llm });
      const g = graphOf({
        entry: 'a',
        nodes: [
          {
            id: 'a',
            type: 'llm',
            prompt: 'x',
            output_key: 'y',
            retry: { max_attempts: 2, initial_interval_ms: 10 },
          },
        ],
        edges: [],
      });
      const result = await h.run(g);
      expect(result).toMatchObject({ status: 'retrying', next_attempt_at: 1010 + 7000 });
    });
  });

  describe('streaming and usage', () => {
    const streamGraph = (stream: boolean) =>
      graphOf({
        entry: 'a',
        nodes: [{ id: 'a', type: 'llm', prompt: 'Stream {{topic}} please', output_key: 'answer', stream }],
        edges: [],
      });

    it('hands a streaming node its text as it comes, and its usage on node_completed', async () => {
      const h = harness({ llm: createFakeProvider({ wordDelayMs: 0 }) });
      const deltas: [string, string][] = [];
      const result = await h.run(streamGraph(true), start({ topic: 'vpn' }), {
        onDelta: (node, text) => deltas.push([node, text]),
      });
      if (result.status !== 'completed') throw new Error(result.status);
      expect(deltas.length).toBeGreaterThan(2);
      expect(deltas.every(([node]) => node === 'a')).toBe(true);
      expect(deltas.map(([, t]) => t).join('')).toBe(result.state.answer);
      const completed = h.events().find((e) => e.type === 'node_completed');
      expect(completed).toMatchObject({ usage: { prompt_tokens: 3, completion_tokens: expect.any(Number) } });
    });

    it('does not stream a node without stream: true, and estimates usage a provider does not report', async () => {
      const llm: LlmProvider = {
        name: 'quiet',
        complete: async (req) => {
          req.onDelta?.('streamed');
          return { text: '12345678', model: 'q' };
        },
      };
      // The same provider and run with stream: true does stream, so an empty list below means the
      // node was not asked to, not that deltas never reach the caller.
      const streamed: string[] = [];
      await harness({ llm }).run(streamGraph(true), start({ topic: 'dns' }), {
        onDelta: (_n, t) => streamed.push(t),
      });
      expect(streamed).toEqual(['streamed']);
      const h = harness({ llm });
      const deltas: string[] = [];
      await h.run(streamGraph(false), start({ topic: 'dns' }), { onDelta: (_n, t) => deltas.push(t) });
      expect(deltas).toEqual([]);
      expect(h.events().find((e) => e.type === 'node_completed')).toMatchObject({
        usage: {
          prompt_tokens: Math.ceil('Stream dns please'.length / 4),
          completion_tokens: 2,
          estimated: true,
        },
      });
    });

    it('retries a stream that broke off, and the next attempt streams from the start', async () => {
      const h = harness({ llm: createFakeProvider({ wordDelayMs: 0 }) });
      const g = graphOf({
        entry: 'a',
        nodes: [
          {
            id: 'a',
            type: 'llm',
            prompt: `flaky ${crypto.randomUUID()} [[fake:flaky=1]] one two three four five six`,
            output_key: 'answer',
            stream: true,
            retry: { max_attempts: 2, initial_interval_ms: 0 },
          },
        ],
        edges: [],
      });
      const deltas: string[] = [];
      const onDelta = (_n: string, t: string) => void deltas.push(t);
      const first = await h.run(g, start(), { onDelta });
      if (first.status !== 'retrying') throw new Error(`expected retrying, got ${first.status}`);
      const partial = deltas.join('');
      expect(partial.length).toBeGreaterThan(0);
      expect(h.steps.at(-1)?.events[0]).toMatchObject({
        type: 'node_retrying',
        error: expect.stringContaining('dropped'),
      });
      deltas.length = 0;
      const second = await h.run(g, first.checkpoint, { onDelta });
      if (second.status !== 'completed') throw new Error(second.status);
      expect(deltas.join('')).toBe(second.state.answer);
      expect(String(second.state.answer).startsWith(partial)).toBe(true);
    });
  });
});
