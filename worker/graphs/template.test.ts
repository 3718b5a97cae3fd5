import { describe, expect, it } from 'vitest';
import { getPath, renderTemplate, renderValue } from './template';

const state = {
  product: 'vpn',
  n: 3,
  ok: false,
  nothing: null,
  status: { up: true, regions: ['eu', 'us'] },
  deep: { a: { b: { c: 'x' } } },
};

describe('getPath', () => {
  it('walks dotted and bracketed paths over own properties only', () => {
    expect(getPath(state, 'deep.a.b.c')).toBe('x');
    expect(getPath(state, 'status.regions.1')).toBe('us');
    expect(getPath(state, 'status.regions[0]')).toBe('eu');
    expect(getPath(state, 'status.missing.x')).toBeUndefined();
    expect(getPath(state, 'constructor')).toBeUndefined();
    expect(getPath(state, 'status.regions.length')).toBeUndefined();
  });
});

describe('renderTemplate', () => {
  it('substitutes fields and nested paths', () => {
    expect(renderTemplate('Help with {{product}} ({{ deep.a.b.c }})', state)).toBe('Help with vpn (x)');
    expect(renderTemplate('{{n}} {{ok}}', state)).toBe('3 false');
  });

  it('renders missing and null as empty and objects as JSON', () => {
    expect(renderTemplate('[{{missing}}][{{nothing}}][{{a.b}}]', state)).toBe('[][][]');
    expect(renderTemplate('{{status}}', state)).toBe('{"up":true,"regions":["eu","us"]}');
  });

  it('leaves text without placeholders alone', () => {
    expect(renderTemplate('no {braces} here {{', state)).toBe('no {braces} here {{');
  });
});

describe('renderValue', () => {
  it('renders string values recursively', () => {
    expect(
      renderValue(
        {
          url: 'https://s.example.com/{{product}}',
          list: ['{{n}}x', 1, true],
          nested: { p: 'P={{product}}' },
        },
        state,
      ),
    ).toEqual({ url: 'https://s.example.com/vpn', list: ['3x', 1, true], nested: { p: 'P=vpn' } });
  });

  it('keeps the type of a whole-string placeholder', () => {
    expect(renderValue({ value: '{{status}}', n: '{{ n }}', missing: '{{nope}}' }, state)).toEqual({
      value: { up: true, regions: ['eu', 'us'] },
      n: 3,
      missing: '',
    });
  });

  it('copies rather than aliasing state', () => {
    const out = renderValue({ v: '{{status}}' }, state) as { v: { up: boolean } };
    out.v.up = false;
    expect(state.status.up).toBe(true);
  });

  it('keeps a __proto__ key as a plain property', () => {
    const out = renderValue(JSON.parse('{"__proto__": {"polluted": true}}'), state) as Record<
      string,
      unknown
    >;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
