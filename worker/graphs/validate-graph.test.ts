import { describe, expect, it } from 'vitest';
import { designExample } from './design-example';
import { validateGraph } from './validate-graph';

type Json = Record<string, unknown>;

/** Asserts the graph is rejected with an issue whose message contains every fragment. */
function expectIssue(input: unknown, ...fragments: string[]) {
  const result = validateGraph(input);
  expect(result.ok, 'graph should be rejected').toBe(false);
  if (result.ok) return;
  const messages = result.issues.map((i) => i.message);
  const hit = result.issues.find((i) => fragments.every((f) => i.message.includes(f)));
  expect(
    hit,
    `no issue containing ${JSON.stringify(fragments)} in ${JSON.stringify(messages)}`,
  ).toBeDefined();
  return hit;
}

describe('validateGraph', () => {
  it('accepts the DESIGN.md example', () => {
    const result = validateGraph(designExample());
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.graph.nodes).toHaveLength(4);
  });

  it('accepts a loop that waits for a person', () => {
    const result = validateGraph({
      entry: 'ask',
      nodes: [
        { id: 'ask', type: 'human_input', prompt: 'More?', output_key: 'more' },
        { id: 'think', type: 'llm', prompt: '{{more}}', output_key: 'answer' },
      ],
      edges: [
        { from: 'ask', to: 'think' },
        { from: 'think', to: 'ask' },
      ],
    });
    expect(result).toMatchObject({ ok: true });
  });

  it('accepts a loop with a branch out, and a node with no outgoing edge', () => {
    const result = validateGraph({
      entry: 'poll',
      nodes: [
        { id: 'poll', type: 'tool', tool: 'echo', args: { done: true }, output_key: 'r' },
        { id: 'wait', type: 'transform', set: { waited: true } },
        { id: 'last', type: 'transform', set: { done: true } },
      ],
      edges: [
        {
          from: 'poll',
          branches: [{ when: { field_equals: { field: 'r.done', value: true } }, to: 'last' }],
          default: 'wait',
        },
        { from: 'wait', to: 'poll' },
      ],
    });
    expect(result).toMatchObject({ ok: true });
  });

  it('normalises the field_exists shorthand', () => {
    const g = designExample();
    g.edges[1] = {
      from: 'route',
      branches: [{ when: { field_exists: 'product' }, to: 'lookup' }],
      default: '__end__',
    };
    const result = validateGraph(g);
    expect(result.ok).toBe(true);
    if (result.ok)
      expect(result.graph.edges[1]).toMatchObject({
        branches: [{ when: { field_exists: { field: 'product' } } }],
      });
  });

  it('rejects non-objects and missing parts', () => {
    expectIssue(null, 'graph must be an object');
    expectIssue([], 'graph must be an object');
    const noEntry: Json = designExample();
    delete noEntry.entry;
    expectIssue(noEntry, 'graph has no entry');
    expectIssue({ ...designExample(), nodes: [] }, 'non-empty "nodes"');
    expectIssue({ ...designExample(), edges: 'x' }, '"edges" must be an array');
    expectIssue({ ...designExample(), extra: 1 }, 'unknown field "extra"');
  });

  /** The DESIGN.md example with one thing wrong: the issue it is rejected with, and where. */
  const oneThingWrong: {
    name: string;
    change: (g: ReturnType<typeof designExample>) => void;
    issue: string[];
    path: string;
  }[] = [
    {
      name: 'rejects an entry that is not a node',
      change: (g) => {
        g.entry = 'start';
      },
      issue: ['entry "start" is not a node'],
      path: 'entry',
    },
    {
      name: 'rejects unknown node types, naming the node',
      change: (g) => {
        g.nodes[1] = { id: 'route', type: 'switch', set: {} };
      },
      issue: ['node "route"', 'unknown node type "switch"'],
      path: 'nodes[1].type',
    },
    {
      name: 'rejects duplicate node ids',
      change: (g) => {
        g.nodes.push({ id: 'route', type: 'transform', set: {} });
      },
      issue: ['node "route"', 'duplicate node id'],
      path: 'nodes[4].id',
    },
    {
      name: 'rejects the reserved id __end__',
      change: (g) => {
        g.nodes.push({ id: '__end__', type: 'transform', set: {} });
      },
      issue: ['node "__end__"', 'reserved'],
      path: 'nodes[4].id',
    },
    {
      name: 'rejects a node with more than one outgoing edge',
      change: (g) => {
        g.edges.push({ from: 'ask', to: 'answer' });
      },
      issue: ['edge "ask" → "answer"', 'node "ask" already has an outgoing edge'],
      path: 'edges[4]',
    },
    {
      name: 'rejects a branch edge without a default',
      change: (g) => {
        g.edges[2] = { from: 'lookup', branches: [{ when: { tool_error: true }, to: '__end__' }] };
      },
      issue: ['edge from "lookup"', 'needs a "default"'],
      path: 'edges[2].default',
    },
    {
      name: 'rejects malformed conditions',
      change: (g) => {
        g.edges[1] = { ...g.edges[1], branches: [{ when: { field_is: 'x' }, to: 'lookup' }] };
      },
      issue: ['edge from "route"', 'condition must be'],
      path: 'edges[1].branches[0].when',
    },
    {
      name: 'rejects tool_error conditions on edges from non-tool nodes',
      change: (g) => {
        g.edges[1] = { ...g.edges[1], branches: [{ when: { tool_error: true }, to: 'lookup' }] };
      },
      issue: ['edge from "route"', 'tool_error conditions only apply'],
      path: 'edges[1].branches[0].when',
    },
    {
      name: 'rejects unreachable nodes',
      change: (g) => {
        g.nodes.push({ id: 'orphan', type: 'transform', set: { x: 1 } });
      },
      issue: ['node "orphan" is unreachable from entry "ask"'],
      path: 'nodes[4]',
    },
  ];

  it.each(oneThingWrong)('$name', ({ change, issue, path }) => {
    const g = designExample();
    change(g);
    expect(expectIssue(g, ...issue)?.path).toBe(path);
  });

  it('names the node and field for a malformed node', () => {
    const g = designExample();
    g.nodes[3] = { id: 'answer', type: 'llm', prompt: 'x' };
    const hit = expectIssue(g, 'node "answer"', 'output_key: is required');
    expect(hit?.path).toBe('nodes[3].output_key');
    const typo = designExample();
    typo.nodes[3] = { id: 'answer', type: 'llm', prompt: 'x', outputKey: 'a' };
    expectIssue(typo, 'node "answer"', 'outputKey');
    const badId = designExample();
    badId.nodes.push({ id: 'bad id!', type: 'transform', set: {} });
    expectIssue(badId, 'nodes[4]', 'id');
  });

  it('rejects dangling edges, naming the edge', () => {
    const fromMissing = designExample();
    fromMissing.edges.push({ from: 'ghost', to: 'answer' });
    expectIssue(fromMissing, 'edge "ghost" → "answer"', 'source node "ghost" does not exist');

    const toMissing = designExample();
    toMissing.edges[3] = { from: 'answer', to: 'nowhere' };
    const hit = expectIssue(toMissing, 'edge "answer" → "nowhere"', 'target node "nowhere" does not exist');
    expect(hit?.path).toBe('edges[3].to');

    const branchMissing = designExample();
    branchMissing.edges[1] = {
      from: 'route',
      branches: [{ when: { tool_error: false }, to: 'x' }],
      default: 'y',
    };
    expectIssue(branchMissing, 'edge from "route"', 'target node "x"');
    expectIssue(branchMissing, 'edge from "route"', 'target node "y"');
  });

  it('rejects a cycle with no human_input and no way out', () => {
    const hit = expectIssue(
      {
        entry: 'a',
        nodes: [
          { id: 'a', type: 'transform', set: {} },
          { id: 'b', type: 'llm', prompt: 'p', output_key: 'o' },
          { id: 'c', type: 'transform', set: {} },
        ],
        edges: [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'c' },
          { from: 'c', branches: [{ when: { field_exists: 'o' }, to: 'a' }], default: 'b' },
        ],
      },
      'form a cycle',
    );
    expect(hit?.message).toMatch(/"a".*"b".*"c"|"b".*"c".*"a"|"c".*"a".*"b"/);
    expectIssue(
      { entry: 'a', nodes: [{ id: 'a', type: 'transform', set: {} }], edges: [{ from: 'a', to: 'a' }] },
      'node "a" loops to itself',
    );
  });

  it('rejects unknown tools', () => {
    const g = designExample();
    g.nodes[2] = { id: 'lookup', type: 'tool', tool: 'shell', args: {} };
    expectIssue(g, 'node "lookup"', 'unknown tool "shell"', 'http_get');
    expect(validateGraph(g, { toolNames: ['shell'] }).ok).toBe(true);
    expect(validateGraph(designExample(), { toolNames: ['echo'] }).ok).toBe(false);
  });

  it('enforces the size caps', () => {
    const nodes = Array.from({ length: 201 }, (_, i) => ({ id: `n${i}`, type: 'transform', set: {} }));
    expectIssue({ entry: 'n0', nodes, edges: [] }, '201 nodes', 'limit is 200');
    const edges = Array.from({ length: 401 }, () => ({ from: 'a', to: '__end__' }));
    expectIssue(
      { entry: 'a', nodes: [{ id: 'a', type: 'transform', set: {} }], edges },
      '401 edges',
      'limit is 400',
    );
  });

  it('reports every problem at once, each with a path', () => {
    const g = designExample();
    g.edges.push({ from: 'ask', to: 'answer' });
    g.nodes.push({ id: 'orphan', type: 'transform', set: {} });
    const result = validateGraph(g);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues.length).toBeGreaterThanOrEqual(2);
      for (const issue of result.issues) expect(issue.path).not.toBe('');
    }
  });

  it('accepts retry policies and stream on llm and tool nodes, filling in defaults', () => {
    const g = designExample();
    g.nodes[2] = { ...(g.nodes[2] as Json), retry: { max_attempts: 3, retry_on: ['http_5xx', 'timeout'] } };
    g.nodes[3] = {
      ...(g.nodes[3] as Json),
      stream: true,
      retry: { max_attempts: 2, initial_interval_ms: 0 },
    };
    const result = validateGraph(g);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.graph.nodes[2]).toMatchObject({
      retry: {
        max_attempts: 3,
        initial_interval_ms: 1000,
        backoff_coefficient: 2,
        retry_on: ['http_5xx', 'timeout'],
      },
    });
    expect(result.graph.nodes[3]).toMatchObject({
      stream: true,
      retry: { max_attempts: 2, max_interval_ms: 60_000 },
    });
  });

  it('rejects retry settings out of range, naming the field', () => {
    const withRetry = (retry: unknown, node = 3) => {
      const g = designExample();
      g.nodes[node] = { ...(g.nodes[node] as Json), retry };
      return g;
    };
    const cases: [unknown, string, string][] = [
      [{ max_attempts: 0 }, 'retry.max_attempts', 'from 1 to 10'],
      [{ max_attempts: 11 }, 'retry.max_attempts', 'from 1 to 10'],
      [{ max_attempts: 2.5 }, 'retry.max_attempts', 'whole number'],
      [{}, 'retry.max_attempts', 'is required'],
      [{ max_attempts: 2, backoff_coefficient: 0.5 }, 'retry.backoff_coefficient', 'from 1'],
      [{ max_attempts: 2, initial_interval_ms: -1 }, 'retry.initial_interval_ms', 'from 0'],
      [{ max_attempts: 2, max_interval_ms: 7_200_000 }, 'retry.max_interval_ms', 'to 3600000'],
      [
        { max_attempts: 2, initial_interval_ms: 5000, max_interval_ms: 1000 },
        'retry.max_interval_ms',
        'at least initial_interval_ms',
      ],
      [
        { max_attempts: 2, retry_on: ['sometimes'] },
        'retry.retry_on[0]',
        'must be one of timeout, error, http_5xx, rate_limited',
      ],
      [{ max_attempts: 2, retry_on: [] }, 'retry.retry_on', 'at least one'],
      [{ max_attempts: 2, retry_on: ['error', 'error'] }, 'retry.retry_on', 'must not repeat'],
      [{ max_attempts: 2, jitter: true }, 'retry', 'jitter'],
    ];
    for (const [retry, path, fragment] of cases) {
      const hit = expectIssue(withRetry(retry), 'node "answer"', fragment);
      expect(hit?.path, JSON.stringify(retry)).toBe(`nodes[3].${path}`);
    }
    // Only llm and tool nodes retry.
    expectIssue(withRetry({ max_attempts: 2 }, 1), 'node "route"', 'retry');
    const streamOnTool = designExample();
    streamOnTool.nodes[2] = { ...(streamOnTool.nodes[2] as Json), stream: true };
    expectIssue(streamOnTool, 'node "lookup"', 'stream');
  });
});
