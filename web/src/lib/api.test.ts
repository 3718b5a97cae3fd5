import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiFailure, createApiClient, data } from './api';
import { session, signOutReason } from './auth';
import { isJsonObject } from './resume-input';

const SESSION_ID = '5b0a6d1e-0000-4000-8000-0000000a11ce';

/** A fake server: records each request and answers with `answer`. */
function fakeServer(answer: (req: Request) => Response | Promise<Response>) {
  const requests: Request[] = [];
  const client = createApiClient({
    baseUrl: 'https://switchboard.test',
    fetch: async (req) => {
      requests.push(req);
      return answer(req);
    },
  });
  return { client, requests };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
};

describe('the API client', () => {
  const stored = new Map<string, string>();
  beforeEach(() => {
    // signOut forgets the token in localStorage, which workerd does not have.
    Object.assign(globalThis, {
      localStorage: { removeItem: (k: string) => stored.delete(k), setItem: stored.set.bind(stored) },
    });
    session.set({ token: 'tok', userId: 'u', accountId: 'a', role: 'engineer', name: 'Alice', exp: 2e9 });
  });
  afterEach(() => session.set(null));

  it('sends the bearer token, the path parameters and the JSON body; answers typed data', async () => {
    const { client, requests } = fakeServer(() => json({ id: 'step', outcome: 'worked' }, 201));
    const step = await data(
      client.POST('/v1/sessions/{id}/steps', {
        params: { path: { id: SESSION_ID } },
        body: { action: 'restart', outcome: 'worked' },
      }),
    );
    expect(step.outcome).toBe('worked');
    const req = requests[0];
    expect(req?.url).toBe(`https://switchboard.test/v1/sessions/${SESSION_ID}/steps`);
    expect(req?.method).toBe('POST');
    expect(req?.headers.get('authorization')).toBe('Bearer tok');
    expect(req?.headers.get('content-type')).toBe('application/json');
    expect(await req?.json()).toEqual({ action: 'restart', outcome: 'worked' });
  });

  it('serialises query parameters', async () => {
    const { client, requests } = fakeServer(() => json({ items: [], next_cursor: null, last_event_id: 0 }));
    await data(client.GET('/v1/escalations', { params: { query: { limit: 100, status: 'open' } } }));
    expect(requests[0]?.url).toBe('https://switchboard.test/v1/escalations?limit=100&status=open');
  });

  it('turns an error answer into an ApiFailure with its code, message and details', async () => {
    const { client } = fakeServer(() =>
      json(
        { error: { code: 'already_picked_up', message: 'already picked up by Bob', details: { x: 1 } } },
        409,
      ),
    );
    const err = await failure(
      data(client.POST('/v1/handoffs/{id}/pickup', { params: { path: { id: SESSION_ID } } })),
    );
    expect(err).toBeInstanceOf(ApiFailure);
    expect(err).toMatchObject({
      status: 409,
      code: 'already_picked_up',
      message: 'already picked up by Bob',
    });
    expect((err as ApiFailure).details).toEqual({ x: 1 });
    expect(session.get()).not.toBeNull();
  });

  it('signs out on a 401, saying why', async () => {
    const { client } = fakeServer(() =>
      json({ error: { code: 'unauthorized', message: 'invalid or expired token' } }, 401),
    );
    const err = await failure(data(client.GET('/v1/sessions')));
    expect(err).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(session.get()).toBeNull();
    expect(signOutReason.get()).toBe('Signed out: invalid or expired token.');
  });

  it('names the status when the error answer is not JSON', async () => {
    const { client } = fakeServer(() => new Response('Bad gateway', { status: 502 }));
    expect(await failure(data(client.GET('/v1/sessions')))).toMatchObject({ status: 502, code: 'http_502' });
  });

  it('turns a network failure into status 0', async () => {
    const { client } = fakeServer(() => {
      throw new TypeError('fetch failed');
    });
    const err = await failure(data(client.GET('/v1/sessions')));
    expect(err).toMatchObject({ status: 0, code: 'network_error' });
    expect((err as Error).message).toContain('fetch failed');
  });
});

describe('isJsonObject', () => {
  it('accepts objects only', () => {
    expect(isJsonObject({ a: 1 })).toBe(true);
    expect(isJsonObject([1])).toBe(false);
    expect(isJsonObject(null)).toBe(false);
    expect(isJsonObject('x')).toBe(false);
  });
});
