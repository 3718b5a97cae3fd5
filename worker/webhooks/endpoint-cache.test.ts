import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { endpointRow } from '../../test/webhook-helpers';
import { hubFor } from '../hub/hub-client';
import { EndpointCache } from './endpoint-cache';

// The webhooks module's copy of the endpoints, in a fresh hub's SQLite (its migrations made the
// tables on the first call).
function withCache<T>(fn: (cache: EndpointCache, sql: SqlStorage) => T) {
  return runInDurableObject(hubFor(env, crypto.randomUUID()), (_hub, state) => {
    const cache = new EndpointCache(state.storage.sql);
    cache.replaceAll([endpointRow('ep', ['escalation.*'])], 0);
    return fn(cache, state.storage.sql);
  });
}

const changes = (sql: SqlStorage) => sql.exec<{ n: number }>('select changes() as n').one().n;

describe('EndpointCache', () => {
  it('keeps when an endpoint started failing, until an attempt succeeds', () =>
    withCache((cache) => {
      expect(cache.failed('ep', 1_000)).toBe(1_000);
      expect(cache.failed('ep', 5_000)).toBe(1_000);
      cache.succeeded('ep');
      expect(cache.get('ep')?.failingSince).toBeNull();
      expect(cache.failed('ep', 9_000)).toBe(9_000);
    }));

  // Every successful delivery calls succeeded(): on an endpoint that was not failing it wrote the
  // row anyway, one billed row write per delivery.
  it('writes nothing when a success finds the endpoint not failing', () =>
    withCache((cache, sql) => {
      cache.succeeded('ep');
      expect(changes(sql)).toBe(0);
      cache.failed('ep', 1_000);
      cache.succeeded('ep');
      expect(changes(sql)).toBe(1);
    }));
});
