import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { IdParam } from '../schemas/common';
import type { AppEnv, Role } from './app-env';
import { ApiError } from './errors';
import { errorResponses, jsonBody, jsonResponse, routesOf, validationHook } from './openapi';

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

describe('routesOf', () => {
  const route = routesOf('Things');
  const Thing = z.object({ name: z.string() });
  const answers = { 200: jsonResponse(Thing, 'The thing') };
  const statuses = (responses: object) => Object.keys(responses).map(Number);

  it('gives a route without input the errors of any authenticated route only', () => {
    const r = route.get('/', { summary: 'All', answers });
    expect([r.method, r.path, r.tags]).toEqual(['get', '/', ['Things']]);
    expect(statuses(r.responses)).toEqual([200, 401, 503]);
    expect(r.middleware).toBeUndefined();
    expect(r.request).toBeUndefined();
    expectTypeOf<keyof typeof r.responses>().toEqualTypeOf<200 | 401 | 503>();
  });

  it('adds what a declaration implies: 400 to validation, 413 and 415 to a body, 403 to roles, the id and 404 to a path’s {id}', () => {
    const queried = route.get('/', { summary: 'Some', request: { query: Thing }, answers });
    expect(statuses(queried.responses)).toEqual([200, 400, 401, 503]);
    expectTypeOf<keyof typeof queried.responses>().toEqualTypeOf<200 | 400 | 401 | 503>();

    const full = route.put('/{id}/thing', {
      summary: 'Change one',
      roles: ['admin'],
      request: { body: jsonBody(Thing) },
      answers,
      errors: [409],
    });
    expect([full.method, full.path]).toEqual(['put', '/{id}/thing']);
    expect(full.request.params).toBe(IdParam);
    expect(full.request.body.content['application/json'].schema).toBe(Thing);
    expectTypeOf(full.request.params).toEqualTypeOf<typeof IdParam>();
    expect(statuses(full.responses)).toEqual([200, 400, 401, 403, 404, 409, 413, 415, 503]);
    expect(full.middleware).toBeTypeOf('function');
    expectTypeOf<keyof typeof full.responses>().toEqualTypeOf<
      200 | 400 | 401 | 403 | 404 | 409 | 413 | 415 | 503
    >();
  });

  it('checks the resource’s roles on each of its routes, and answers their 403', () => {
    const r = routesOf('Secrets', { roles: ['admin'] }).get('/', { summary: 'All', answers });
    expect(statuses(r.responses)).toEqual([200, 401, 403, 503]);
    expect(r.middleware).toBeTypeOf('function');
    expectTypeOf<keyof typeof r.responses>().toEqualTypeOf<200 | 401 | 403 | 503>();
  });

  it('closes a write without roles to viewers (DESIGN: a viewer reads), and leaves a read open', async () => {
    const write = route.post('/', { summary: 'Add one', answers });
    expect(statuses(write.responses)).toEqual([200, 401, 403, 503]);
    expectTypeOf<keyof typeof write.responses>().toEqualTypeOf<200 | 401 | 403 | 503>();
    const calledAs = async (role: Role) => {
      const c = { get: () => ({ role }) } as unknown as Context<AppEnv>;
      let passed = false;
      await write.middleware?.(c, async () => {
        passed = true;
      });
      return passed;
    };
    await expect(calledAs('viewer')).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    await expect(calledAs('engineer')).resolves.toBe(true);
    await expect(calledAs('admin')).resolves.toBe(true);
    expect(route.get('/', { summary: 'All', answers }).middleware).toBeUndefined();
  });
});
