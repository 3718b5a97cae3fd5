import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getPath, renderTemplate, renderValue, TemplateLimitError, utf8Bytes } from './template';

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

describe('bounds', () => {
  const big = { x: 'é'.repeat(10_000), o: { list: ['y'.repeat(5_000)] } };

  it('stops a template at maxBytes (UTF-8) instead of building it', () => {
    expect(renderTemplate('{{x}}', big, { maxBytes: 20_000 })).toHaveLength(10_000);
    expect(() => renderTemplate('{{x}}!', big, { maxBytes: 20_000 })).toThrow(TemplateLimitError);
    // A million placeholders over a 20 KB value would be 20 GB: it fails on the second.
    expect(() => renderTemplate('{{x}}'.repeat(1_000_000), big, { maxBytes: 32_768 })).toThrow(
      TemplateLimitError,
    );
  });

  it('bounds a whole rendered value, copies of state values included', () => {
    const limits = { templateBytes: 30_000, valueBytes: 30_000 };
    expect(() => renderValue({ a: '{{x}}', b: '{{x}}' }, big, limits)).toThrow(
      expect.objectContaining({ limit: 'value', maxBytes: 30_000 }),
    );
    expect(renderValue({ a: '{{o}}' }, big, limits)).toEqual({ a: big.o });
  });

  it('percent-encodes substituted values of the keys it is told, whole placeholders included', () => {
    const state = { p: 'a/b?c#d', q: 'x y' };
    const opts = { encodeKeys: { keys: ['url'], encode: encodeURIComponent } };
    expect(renderValue({ url: 'https://h/{{p}}?q={{q}}', other: '{{p}}' }, state, undefined, opts)).toEqual({
      url: 'https://h/a%2Fb%3Fc%23d?q=x%20y',
      other: 'a/b?c#d',
    });
    expect(renderValue({ url: '{{p}}' }, state, undefined, opts)).toEqual({ url: 'a%2Fb%3Fc%23d' });
  });

  it('counts UTF-8 bytes like TextEncoder does', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        expect(utf8Bytes(text)).toBe(new TextEncoder().encode(text).byteLength);
      }),
    );
  });

  it('never returns a rendered string over its bound, whatever the template and state', () => {
    const path = fc.constantFrom('a', 'b', 'c.d', 'c', 'missing');
    const template = fc.array(
      fc.oneof(
        fc.string({ maxLength: 20 }),
        path.map((p) => `{{${p}}}`),
      ),
      {
        maxLength: 40,
      },
    );
    const state = fc.record({
      a: fc.string({ unit: 'binary', maxLength: 300 }),
      b: fc.oneof(fc.integer(), fc.string({ maxLength: 2_000 })),
      c: fc.record({ d: fc.string({ unit: 'grapheme', maxLength: 500 }) }),
    });
    fc.assert(
      fc.property(template, state, fc.integer({ min: 0, max: 4_000 }), (parts, st, maxBytes) => {
        try {
          expect(utf8Bytes(renderTemplate(parts.join(''), st, { maxBytes }))).toBeLessThanOrEqual(maxBytes);
        } catch (err) {
          expect(err).toBeInstanceOf(TemplateLimitError);
        }
      }),
    );
  });
});
