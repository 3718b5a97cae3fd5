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

  it('refuses a token expired more than 60 s ago, and accepts one within the leeway', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await makeUser({ exp: now - 90 });
    const err = await expectError(await call('/v1/sessions', expired), 401, 'unauthorized');
    expect(err.message).toBe('token expired');
    // Clock skew between the identity provider and the edge: a few seconds late is fine.
    expect((await call('/v1/sessions', await makeUser({ exp: now - 20 }))).status).toBe(200);
  });

  it('gives nbf and iat the same 60 s of leeway', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = (extra: Record<string, number>) =>
      sign(
        {
          sub: crypto.randomUUID(),
          acct: crypto.randomUUID(),
          role: 'engineer',
          name: 'Skewed',
          exp: now + 600,
          ...extra,
        },
        'test-secret-0123456789abcdef',
        'HS256',
      );
    expect((await call('/v1/sessions', await token({ nbf: now + 20, iat: now + 20 }))).status).toBe(200);
    await expectError(await call('/v1/sessions', await token({ nbf: now + 120 })), 401, 'unauthorized');
    await expectError(await call('/v1/sessions', await token({ iat: now + 120 })), 401, 'unauthorized');
  });

  it('never refuses a token for its name: control characters removed, cut to 200 characters', async () => {
    const messy = `Ada\u0000 Love\u001blace\u202e ${'x'.repeat(400)}`;
    const user = await makeUser({ name: messy });
    const session = await createSession(user);
    const res = await call(`/v1/sessions/${session.id}/handoffs`, user, {
      body: { intent: 'escalate', reason: 'name check', severity: 'low' },
    });
    expect(res.status).toBe(201);
    const card = await json<{ created_by: { name: string } }>(res);
    expect(card.created_by.name).toBe(`Ada Lovelace ${'x'.repeat(400)}`.slice(0, 200));
    // Nothing usable left: a stand-in rather than a refusal.
    const blank = await makeUser({ name: '\u0007\u0008' });
    expect((await call('/v1/sessions', blank)).status).toBe(200);
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
