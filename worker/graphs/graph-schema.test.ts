import { describe, expect, it } from 'vitest';
import { conditionSchema, graphSchema, nodeSchema } from './graph-schema';

describe('graphSchema', () => {
  it('parses the DESIGN.md example', () => {
    const parsed = graphSchema.safeParse({
      entry: 'ask',
      nodes: [
        { id: 'ask', type: 'human_input', prompt: 'Which product?', output_key: 'product' },
        { id: 'route', type: 'transform', set: { routed: true } },
        {
          id: 'lookup',
          type: 'tool',
          tool: 'http_get',
          args: { url: 'https://s.example.com/{{product}}' },
          output_key: 'status',
        },
        { id: 'answer', type: 'llm', prompt: 'Help with {{product}} given {{status}}', output_key: 'answer' },
      ],
      edges: [
        { from: 'ask', to: 'route' },
        {
          from: 'route',
          branches: [{ when: { field_equals: { field: 'product', value: 'vpn' } }, to: 'lookup' }],
          default: '__end__',
        },
        { from: 'lookup', branches: [{ when: { tool_error: true }, to: '__end__' }], default: 'answer' },
        { from: 'answer', to: '__end__' },
      ],
    });
    expect(parsed.success).toBe(true);
  });

  it('defaults tool args to an empty object', () => {
    const node = nodeSchema.parse({ id: 't', type: 'tool', tool: 'echo' });
    expect(node).toEqual({ id: 't', type: 'tool', tool: 'echo', args: {} });
  });

  it('rejects unknown fields and bad ids', () => {
    expect(nodeSchema.safeParse({ id: 'a', type: 'llm', prompt: 'p', outputKey: 'x' }).success).toBe(false);
    expect(nodeSchema.safeParse({ id: 'has space', type: 'transform', set: {} }).success).toBe(false);
    expect(nodeSchema.safeParse({ id: 'x'.repeat(65), type: 'transform', set: {} }).success).toBe(false);
    expect(
      nodeSchema.safeParse({ id: 'a', type: 'transform', set: JSON.parse('{"__proto__": 1}') }).success,
    ).toBe(false);
  });
});

describe('conditionSchema', () => {
  it('normalises the field_exists shorthand', () => {
    expect(conditionSchema.parse({ field_exists: 'a.b' })).toEqual({ field_exists: { field: 'a.b' } });
    expect(conditionSchema.parse({ field_exists: { field: 'a' } })).toEqual({ field_exists: { field: 'a' } });
  });

  it('rejects malformed conditions', () => {
    for (const bad of [
      {},
      { tool_error: 'yes' },
      { field_equals: { field: 'a' } },
      { field_exists: 'a', tool_error: true },
      { field_matches: { field: 'a' } },
    ]) {
      expect(conditionSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
