import { describe, expect, it } from 'vitest';
import { designExample } from './design-example';
import { conditionSchema, graphSchema, nodeSchema } from './graph-schema';

describe('graphSchema', () => {
  it('parses the DESIGN.md example', () => {
    const parsed = graphSchema.safeParse(designExample());
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
