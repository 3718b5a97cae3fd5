import { describe, expect, it } from 'vitest';
import {
  type ApiError,
  badRequest,
  conflict,
  databaseUnavailable,
  forbidden,
  hubUnavailable,
  identityProviderUnavailable,
  internalError,
  malformedJson,
  misconfigured,
  notFound,
  payloadTooLarge,
  tooManyRequests,
  unauthorized,
  unsupportedMediaType,
  validationFailed,
} from './errors';

const shape = (e: ApiError) => ({ status: e.status, code: e.code, headers: e.headers });

describe('error constructors', () => {
  it('give each code its status', () => {
    expect(shape(malformedJson('Malformed JSON'))).toMatchObject({ status: 400, code: 'malformed_json' });
    expect(shape(badRequest('too_deep', 'deep'))).toMatchObject({ status: 400, code: 'too_deep' });
    expect(shape(forbidden('no'))).toMatchObject({ status: 403, code: 'forbidden' });
    expect(shape(conflict('already_picked_up', 'taken'))).toMatchObject({
      status: 409,
      code: 'already_picked_up',
    });
    expect(shape(payloadTooLarge(10))).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(shape(unsupportedMediaType())).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    expect(shape(internalError())).toMatchObject({ status: 500, code: 'internal' });
    expect(shape(misconfigured('DATABASE_URL'))).toMatchObject({ status: 503, code: 'misconfigured' });
    expect(shape(identityProviderUnavailable('x'))).toMatchObject({
      status: 503,
      code: 'identity_provider_unavailable',
    });
  });

  it('say what is missing: not_found names the thing', () => {
    const e = notFound('session');
    expect([e.status, e.code, e.message]).toEqual([404, 'not_found', 'session not found']);
  });

  it('list each failing field once in the message and all of them in details', () => {
    const e = validationFailed('body', [
      { field: 'title', message: 'too short' },
      { field: 'title', message: 'not a string' },
      { field: 'outcome', message: 'invalid' },
    ]);
    expect([e.status, e.code, e.message]).toEqual([400, 'validation_failed', 'invalid body: title, outcome']);
    expect(e.details).toHaveLength(3);
  });

  it('ask for the bearer scheme on 401', () => {
    expect(unauthorized('missing bearer token').headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
  });

  it('say when to retry on 429 and 503, in whole seconds, at least one', () => {
    expect(tooManyRequests('too_many_runs', 'limit', 0.2, { limit: 5 }).headers).toEqual({
      'Retry-After': '1',
    });
    expect(tooManyRequests('too_many_runs', 'limit', 12).status).toBe(429);
    for (const e of [hubUnavailable(), databaseUnavailable()]) {
      expect(e.status).toBe(503);
      expect(Number(e.headers?.['Retry-After'])).toBeGreaterThanOrEqual(1);
    }
    expect(hubUnavailable().code).toBe('hub_unavailable');
    expect(databaseUnavailable().code).toBe('database_unavailable');
  });
});
