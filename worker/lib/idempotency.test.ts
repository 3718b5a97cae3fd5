import { describe, expect, it } from 'vitest';
import {
  IDEMPOTENCY_KEY_TTL_MS,
  idempotent,
  isFresh,
  type KeyRecord,
  type Made,
  sameRequest,
} from './idempotency';

/** What Postgres throws for a unique violation, as drizzle wraps it. */
const uniqueViolation = () =>
  new Error('Failed query', { cause: Object.assign(new Error('dup'), { code: '23505' }) });

const NOW = Date.UTC(2026, 10, 30, 12);

/** A store over one map, and a create that writes into it under a unique key, like the tables do. */
function harness(initial?: KeyRecord) {
  const records = new Map<string, KeyRecord>(initial ? [['k', initial]] : []);
  const expired: string[] = [];
  let made = 0;
  const store = {
    find: async (key: string) => records.get(key),
    expire: async (key: string, record: KeyRecord) => {
      expired.push(record.resourceId);
      if (records.get(key) === record) records.delete(key);
    },
  };
  const create =
    (request: unknown, refuse: 'no' | 'askKey' | 'final' = 'no') =>
    async (): Promise<Made<string, string>> => {
      if (refuse !== 'no') return { ok: false, value: 'refused', askKey: refuse === 'askKey' };
      if (records.has('k')) throw uniqueViolation();
      const id = `r${++made}`;
      records.set('k', { resourceId: id, request, createdAt: new Date(NOW) });
      return { ok: true, value: id };
    };
  const call = (request: unknown, opts: { key?: string; refuse?: 'askKey' | 'final' } = {}) =>
    idempotent({
      key: 'key' in opts ? opts.key : 'k',
      request,
      store,
      create: create(request, opts.refuse),
      replay: async (id: string) => `replay of ${id}`,
      now: () => NOW + 1000,
    });
  return { call, expired, records };
}

describe('sameRequest', () => {
  it('compares JSON values, not their spelling', () => {
    expect(sameRequest({ a: 1, b: { c: [1, 2], d: null } }, { b: { d: null, c: [1, 2] }, a: 1 })).toBe(true);
    expect(sameRequest(JSON.parse('{"n": 1.0}'), JSON.parse('{"n": 1}'))).toBe(true);
    expect(sameRequest({ a: 1 }, { a: '1' })).toBe(false);
    expect(sameRequest({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameRequest({ a: null }, {})).toBe(false);
  });
});

describe('isFresh', () => {
  it('is true for exactly less than 24 hours', () => {
    expect(isFresh(new Date(NOW - IDEMPOTENCY_KEY_TTL_MS + 1), NOW)).toBe(true);
    expect(isFresh(new Date(NOW - IDEMPOTENCY_KEY_TTL_MS), NOW)).toBe(false);
  });
});

describe('idempotent', () => {
  it('creates without a key, and refuses as the domain says', async () => {
    const h = harness();
    expect(await h.call({ a: 1 }, { key: undefined })).toEqual({ kind: 'created', value: 'r1' });
    expect(await h.call({ a: 1 }, { key: undefined, refuse: 'askKey' })).toEqual({
      kind: 'refused',
      value: 'refused',
    });
    expect(h.records.size).toBe(1);
  });

  it('replays the same request, refuses another one with the key', async () => {
    const h = harness();
    expect(await h.call({ a: 1, b: 2 })).toEqual({ kind: 'created', value: 'r1' });
    expect(await h.call({ b: 2, a: 1 })).toEqual({ kind: 'replayed', value: 'replay of r1' });
    expect(await h.call({ a: 2, b: 2 })).toEqual({ kind: 'key_reused' });
  });

  it('answers a retry refused with askKey with what the key made; another refusal stands', async () => {
    const h = harness();
    await h.call({ a: 1 });
    expect(await h.call({ a: 1 }, { refuse: 'askKey' })).toEqual({ kind: 'replayed', value: 'replay of r1' });
    expect(await h.call({ a: 9 }, { refuse: 'askKey' })).toEqual({ kind: 'key_reused' });
    expect(await h.call({ a: 1 }, { key: 'other', refuse: 'askKey' })).toEqual({
      kind: 'refused',
      value: 'refused',
    });
    expect(await h.call({ a: 9 }, { refuse: 'final' })).toEqual({ kind: 'refused', value: 'refused' });
  });

  it('lets a key older than 24 hours go at lookup, and creates afresh', async () => {
    const h = harness({
      resourceId: 'old',
      request: { a: 1 },
      createdAt: new Date(NOW - IDEMPOTENCY_KEY_TTL_MS),
    });
    expect(await h.call({ a: 1 })).toEqual({ kind: 'created', value: 'r1' });
    expect(h.expired).toEqual(['old']);
    expect(h.records.get('k')?.resourceId).toBe('r1');
  });

  it('rethrows what is not a unique violation', async () => {
    await expect(
      idempotent({
        key: 'k',
        request: {},
        store: { find: async () => undefined, expire: async () => undefined },
        create: async () => {
          throw new Error('connection lost');
        },
        replay: async () => 'x',
      }),
    ).rejects.toThrow('connection lost');
  });
});
