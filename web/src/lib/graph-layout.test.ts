import { describe, expect, it } from 'vitest';
import {
  describeCondition,
  END_ID,
  type GraphDefinition,
  layoutGraph,
  NODE_HEIGHT,
  pathOf,
} from './graph-layout';

const graph: GraphDefinition = {
  entry: 'ask',
  nodes: [
    { id: 'ask', type: 'human_input', prompt: 'Which?', output_key: 'product' },
    { id: 'route', type: 'transform', set: { routed: true } },
    { id: 'lookup', type: 'tool', tool: 'echo', args: {}, output_key: 'status' },
    { id: 'answer', type: 'llm', prompt: 'Help', output_key: 'answer' },
  ],
  edges: [
    { from: 'ask', to: 'route' },
    {
      from: 'route',
      branches: [{ when: { field_equals: { field: 'product', value: 'vpn' } }, to: 'lookup' }],
      default: '__end__',
    },
    { from: 'lookup', branches: [{ when: { tool_error: true }, to: '__end__' }], default: 'answer' },
  ],
};

describe('layoutGraph', () => {
  const layout = layoutGraph(graph);
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));

  it('places every node and the end, top to bottom in the order they run', () => {
    expect([...byId.keys()].sort()).toEqual(['__end__', 'answer', 'ask', 'lookup', 'route']);
    const y = (id: string) => byId.get(id)?.y ?? Number.NaN;
    expect(y('ask')).toBeLessThan(y('route'));
    expect(y('route')).toBeLessThan(y('lookup'));
    expect(y('lookup')).toBeLessThan(y('answer'));
    expect(byId.get('ask')).toMatchObject({ type: 'human_input', height: NODE_HEIGHT });
    expect(byId.get(END_ID)?.type).toBe('end');
    for (const n of layout.nodes) {
      expect(n.x).toBeGreaterThanOrEqual(0);
      expect(n.y + n.height).toBeLessThanOrEqual(layout.height);
    }
  });

  it('draws each branch and default as its own labelled arrow, and a node without an edge into the end', () => {
    expect(layout.edges.map((e) => [e.key, e.label ?? null])).toEqual([
      ['ask->route', null],
      ['route->lookup', 'product = "vpn"'],
      ['route->__end__', 'else'],
      ['lookup->__end__', 'tool error'],
      ['lookup->answer', 'else'],
      ['answer->__end__', null],
    ]);
    for (const e of layout.edges) {
      expect(e.points.length).toBeGreaterThanOrEqual(2);
      if (e.label) expect(e.labelAt).toBeDefined();
    }
    expect(
      pathOf([
        { x: 1, y: 2 },
        { x: 3.25, y: 4 },
      ]),
    ).toBe('M1.0,2.0 L3.3,4.0');
  });

  it('keeps two arrows between the same nodes apart', () => {
    const twice = layoutGraph({
      entry: 'a',
      nodes: [
        { id: 'a', type: 'transform', set: {} },
        { id: 'b', type: 'transform', set: {} },
      ],
      edges: [{ from: 'a', branches: [{ when: { field_exists: { field: 'x' } }, to: 'b' }], default: 'b' }],
    });
    expect(twice.edges.map((e) => e.key)).toEqual(['a->b', 'a->b#2', 'b->__end__']);
  });

  it('describes conditions in words', () => {
    expect(describeCondition({ field_exists: { field: 'user.id' } })).toBe('has user.id');
    expect(describeCondition({ tool_error: false })).toBe('no tool error');
  });
});
