import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from './app-env';
import { ApiError } from './errors';
import { errorResponses, validationHook } from './openapi';

const context = {} as Context<AppEnv>;

function failure(schema: z.ZodType, value: unknown) {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected a failure');
  return result.error;
}

describe('validationHook', () => {
  it('turns a zod failure into validation_failed naming each field', () => {
    const error = failure(z.object({ title: z.string(), nested: z.object({ n: z.number() }) }), {
      nested: {},
    });
    let thrown: unknown;
    try {
      validationHook({ success: false, error, target: 'json' }, context);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    const e = thrown as ApiError;
    expect([e.status, e.code, e.message]).toEqual([
      400,
      'validation_failed',
      'invalid json: title, nested.n',
    ]);
    expect(e.details).toEqual([
      { field: 'title', message: expect.any(String) },
      { field: 'nested.n', message: expect.any(String) },
    ]);
  });

  it('names the target when the whole value is wrong', () => {
    const error = failure(z.object({}), 'text');
    expect(() => validationHook({ success: false, error, target: 'query' }, context)).toThrow(
      'invalid query: query',
    );
  });

  it('lets valid input through', () => {
    expect(validationHook({ success: true, data: {}, target: 'json' }, context)).toBeUndefined();
  });
});

describe('errorResponses', () => {
  it('describes each status with the common error schema, Retry-After on 429 and 503', () => {
    const r = errorResponses(400, 429, 503);
    expect(Object.keys(r)).toEqual(['400', '429', '503']);
    expect(r[400].content['application/json'].schema).toBeDefined();
    expect('headers' in r[400]).toBe(false);
    expect(r[429].headers?.['Retry-After']).toBeDefined();
    expect(r[503].headers?.['Retry-After']).toBeDefined();
  });
});
