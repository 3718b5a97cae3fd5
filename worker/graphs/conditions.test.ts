import { describe, expect, it } from 'vitest';
import { chooseNext, chooseOnToolError, evaluateCondition, jsonEquals } from './conditions';
import type { Edge } from './graph-schema';

const state = { product: 'vpn', count: 0, obj: { a: [1, { b: 2 }] }, none: null };
const ok = { state, toolError: false };

describe('jsonEquals', () => {
  it('compares JSON values structurally', () => {
    expect(jsonEquals({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(jsonEquals([1, 2], [2, 1])).toBe(false);
    expect(jsonEquals({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEquals(null, {})).toBe(false);
    expect(jsonEquals('1', 1)).toBe(false);
  });
});

describe('evaluateCondition', () => {
  it('field_equals', () => {
    expect(evaluateCondition({ field_equals: { field: 'product', value: 'vpn' } }, ok)).toBe(true);
    expect(evaluateCondition({ field_equals: { field: 'product', value: 'dns' } }, ok)).toBe(false);
    expect(evaluateCondition({ field_equals: { field: 'obj.a[1]', value: { b: 2 } } }, ok)).toBe(true);
    expect(evaluateCondition({ field_equals: { field: 'missing', value: null } }, ok)).toBe(false);
  });

  it('field_exists treats null and missing as absent', () => {
    expect(evaluateCondition({ field_exists: { field: 'count' } }, ok)).toBe(true);
    expect(evaluateCondition({ field_exists: { field: 'obj.a.0' } }, ok)).toBe(true);
    expect(evaluateCondition({ field_exists: { field: 'none' } }, ok)).toBe(false);
    expect(evaluateCondition({ field_exists: { field: 'missing' } }, ok)).toBe(false);
  });

  it('tool_error', () => {
    expect(evaluateCondition({ tool_error: true }, { state, toolError: true })).toBe(true);
    expect(evaluateCondition({ tool_error: true }, ok)).toBe(false);
    expect(evaluateCondition({ tool_error: false }, ok)).toBe(true);
  });
});

describe('chooseNext', () => {
  const branching: Edge = {
    from: 'a',
    branches: [
      { when: { field_equals: { field: 'product', value: 'dns' } }, to: 'dns' },
      { when: { field_equals: { field: 'product', value: 'vpn' } }, to: 'vpn' },
      { when: { field_exists: { field: 'product' } }, to: 'any' },
    ],
    default: '__end__',
  };

  it('takes the first matching branch', () => {
    expect(chooseNext(branching, ok)).toEqual({ to: 'vpn', condition_result: true });
  });

  it('takes the default when nothing matches', () => {
    expect(chooseNext(branching, { state: {}, toolError: false })).toEqual({
      to: '__end__',
      condition_result: false,
    });
  });

  it('follows plain edges without a condition result, and ends without an edge', () => {
    expect(chooseNext({ from: 'a', to: 'b' }, ok)).toEqual({ to: 'b' });
    expect(chooseNext(undefined, ok)).toEqual({ to: '__end__' });
  });
});

describe('chooseOnToolError', () => {
  it('picks the tool_error: true branch over other matches', () => {
    const edge: Edge = {
      from: 't',
      branches: [
        { when: { field_exists: { field: 'product' } }, to: 'x' },
        { when: { tool_error: true }, to: 'recover' },
      ],
      default: 'next',
    };
    expect(chooseOnToolError(edge)).toEqual({ to: 'recover', condition_result: true });
  });

  it('has nowhere to go without such a branch', () => {
    expect(chooseOnToolError({ from: 't', to: 'next' })).toBeUndefined();
    expect(chooseOnToolError(undefined)).toBeUndefined();
    expect(
      chooseOnToolError({ from: 't', branches: [{ when: { tool_error: false }, to: 'x' }], default: 'y' }),
    ).toBeUndefined();
  });
});
