import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../worker/app';
import { DEMO_ACCOUNT_ID, DEMO_USERS } from '../worker/dev/demo-users';
import { call, expectError } from './helpers';

type Tokens = { account_id: string; users: { id: string; name: string; role: string; token: string }[] };

async function request(path: string, vars: Record<string, string>, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const res = await app.request(path, init, { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('dev token endpoint', () => {
  it('is off unless DEV_MODE is set: the test environment answers 404', async () => {
    expect((env as unknown as Record<string, string>).DEV_MODE).toBe('false');
    await expectError(await call('/dev/tokens', null), 404, 'not_found');
  });

  it('is off when DEV_MODE is false or empty', async () => {
    for (const value of ['false', '0', '']) {
      await expectError(await request('/dev/tokens', { DEV_MODE: value }), 404, 'not_found');
    }
  });

  it('in dev mode returns a working token for each demo user', async () => {
    const res = await request('/dev/tokens', { DEV_MODE: 'true' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Tokens;
    expect(body.account_id).toBe(DEMO_ACCOUNT_ID);
    expect(body.users.map((u) => [u.id, u.name, u.role])).toEqual(
      DEMO_USERS.map((u) => [u.id, u.name, u.role]),
    );
    // Each token is accepted by the API, as its user, in the demo account.
    for (const user of body.users) {
      const sessions = await call('/v1/sessions', user.token);
      expect(sessions.status).toBe(200);
    }
  });

  it('has no other dev routes', async () => {
    await expectError(await request('/dev/other', { DEV_MODE: 'true' }), 404, 'not_found');
  });
});
