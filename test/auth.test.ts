import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { call, colleague, createSession, expectError, json, makeUser } from './helpers';

const b64url = (obj: unknown) =>
  btoa(JSON.stringify(obj)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

describe('authentication', () => {
  it('refuses a request without a token', async () => {
    const res = await call('/v1/sessions', null);
    await expectError(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('refuses an expired token', async () => {
    const user = await makeUser({ exp: Math.floor(Date.now() / 1000) - 10 });
    await expectError(await call('/v1/sessions', user), 401, 'unauthorized');
  });

  it('refuses a token signed with another secret', async () => {
    const user = await makeUser({ secret: 'not-the-secret-at-all-0000' });
    await expectError(await call('/v1/sessions', user), 401, 'unauthorized');
  });

  it('refuses alg none, even with valid claims', async () => {
    const payload = {
      sub: crypto.randomUUID(),
      acct: crypto.randomUUID(),
      role: 'admin',
      name: 'Mallory',
      exp: Math.floor(Date.now() / 1000) + 600,
    };
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
    await expectError(await call('/v1/sessions', token), 401, 'unauthorized');
  });

  it('refuses garbage and tokens with missing or malformed claims', async () => {
    await expectError(await call('/v1/sessions', 'not.a.token'), 401);
    await expectError(await call('/v1/sessions', '%%%'), 401);
    const exp = Math.floor(Date.now() / 1000) + 600;
    const secret = 'test-secret-0123456789abcdef';
    for (const claims of [
      { sub: 'not-a-uuid', acct: crypto.randomUUID(), role: 'engineer', name: 'x', exp },
      { sub: crypto.randomUUID(), acct: crypto.randomUUID(), role: 'root', name: 'x', exp },
      { sub: crypto.randomUUID(), acct: crypto.randomUUID(), role: 'engineer', name: 'x' },
    ]) {
      await expectError(await call('/v1/sessions', await sign(claims, secret, 'HS256')), 401, 'unauthorized');
    }
  });

  it('lets a viewer read but not write', async () => {
    const viewer = await makeUser({ role: 'viewer' });
    expect((await call('/v1/sessions', viewer)).status).toBe(200);
    await expectError(
      await call('/v1/sessions', viewer, { body: { title: 't', problem_summary: 'p' } }),
      403,
      'forbidden',
    );
  });

  it("answers 404 for another account's session, never 403", async () => {
    const alice = await makeUser();
    const mallory = await makeUser({ role: 'admin' });
    const session = await createSession(alice);
    await expectError(await call(`/v1/sessions/${session.id}`, mallory), 404, 'not_found');
    await expectError(
      await call(`/v1/sessions/${session.id}/steps`, mallory, { body: { action: 'x', outcome: 'worked' } }),
      404,
      'not_found',
    );
  });

  it('treats an upper-case account id in the token as the same account', async () => {
    const alice = await makeUser();
    const upper = await makeUser({ acct: alice.acct.toUpperCase(), sub: alice.sub });
    const session = await createSession(alice);
    const res = await call(`/v1/sessions/${session.id}`, upper);
    expect(res.status).toBe(200);
    const bob = await colleague(alice);
    const list = await json<{ items: { id: string }[] }>(await call('/v1/sessions', bob));
    expect(list.items.map((s) => s.id)).toEqual([session.id]);
  });
});
