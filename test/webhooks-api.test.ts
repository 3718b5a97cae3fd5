import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../worker/app';
import { outboxMarker } from '../worker/escalations/outbox';
import { scheduled } from '../worker/scheduled';
import { escalate, unreachableHub } from './escalation-helpers';
import { call, colleague, expectError, json, makeUser } from './helpers';
import { callWith } from './runs-helpers';
import {
  deliveries,
  type Endpoint,
  getEndpoint,
  newHook,
  receivedAtLeast,
  register,
} from './webhook-helpers';

const admin = () => makeUser({ role: 'admin', name: 'Ada Admin' });

describe('webhook endpoints: the API', () => {
  it('registers an endpoint and answers its secret once', async () => {
    const ada = await admin();
    const hook = newHook();
    const res = await call('/v1/webhooks', ada, {
      body: { url: hook.url, events: ['escalation.*', 'run.failed', 'escalation.*'], description: 'Ops' },
    });
    expect(res.status).toBe(201);
    const created = await json<Endpoint & { secret: string; description: string }>(res);
    expect(res.headers.get('location')).toBe(`/v1/webhooks/${created.id}`);
    expect(created).toMatchObject({
      url: hook.url,
      format: 'standard',
      events: ['escalation.*', 'run.failed'],
      enabled: true,
      disabled_reason: null,
      description: 'Ops',
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    // Never again: not in the read, not in the list.
    const read = await getEndpoint(ada, created.id);
    expect(read).not.toHaveProperty('secret');
    const list = await json<{ items: Endpoint[] }>(await call('/v1/webhooks', ada));
    expect(list.items.map((e) => e.id)).toEqual([created.id]);
    expect(JSON.stringify(list)).not.toContain(created.secret);
  });

  it('changes events, URL and format, disables and enables, and deletes', async () => {
    const ada = await admin();
    const e = await register(ada, { url: newHook().url, events: ['ping'] });
    const other = newHook();
    const patched = await json<Endpoint>(
      await call(`/v1/webhooks/${e.id}`, ada, {
        method: 'PATCH',
        body: { events: ['run.*'], url: other.url, format: 'slack', enabled: false },
      }),
    );
    expect(patched).toMatchObject({ events: ['run.*'], url: other.url, format: 'slack', enabled: false });
    expect(patched).not.toHaveProperty('secret');
    const on = await json<Endpoint>(
      await call(`/v1/webhooks/${e.id}`, ada, { method: 'PATCH', body: { enabled: true } }),
    );
    expect(on.enabled).toBe(true);
    const del = await call(`/v1/webhooks/${e.id}`, ada, { method: 'DELETE' });
    expect(del.status).toBe(204);
    await expectError(await call(`/v1/webhooks/${e.id}`, ada), 404, 'not_found');
    await expectError(await call(`/v1/webhooks/${e.id}`, ada, { method: 'DELETE' }), 404, 'not_found');
  });

  it('rotates the secret: the new one is answered once, the old one is still valid for 24 h', async () => {
    const ada = await admin();
    const e = await register(ada, { url: newHook().url, events: ['ping'] });
    const res = await call(`/v1/webhooks/${e.id}`, ada, { method: 'PATCH', body: { rotate_secret: true } });
    expect(res.status).toBe(200);
    const rotated = await json<Endpoint & { secret: string }>(res);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(e.secret);
    const until = Date.parse(rotated.previous_secret_expires_at ?? '');
    expect(until - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    expect(until - Date.now()).toBeLessThanOrEqual(24 * 3600_000 + 60_000);
  });

  it('is for admins only; another account’s endpoint is 404', async () => {
    const ada = await admin();
    const e = await register(ada, { url: newHook().url, events: ['ping'] });
    for (const role of ['engineer', 'viewer'] as const) {
      const user = await colleague(ada, role);
      await expectError(await call('/v1/webhooks', user), 403, 'forbidden');
      await expectError(
        await call('/v1/webhooks', user, { body: { url: newHook().url, events: ['ping'] } }),
        403,
        'forbidden',
      );
      await expectError(await call(`/v1/webhooks/${e.id}/deliveries`, user), 403, 'forbidden');
      await expectError(await call(`/v1/webhooks/${e.id}/test`, user, { method: 'POST' }), 403, 'forbidden');
    }
    const stranger = await admin();
    for (const [method, path, body] of [
      ['GET', `/v1/webhooks/${e.id}`, undefined],
      ['PATCH', `/v1/webhooks/${e.id}`, { enabled: false }],
      ['DELETE', `/v1/webhooks/${e.id}`, undefined],
      ['GET', `/v1/webhooks/${e.id}/deliveries`, undefined],
      ['POST', `/v1/webhooks/${e.id}/test`, undefined],
    ] as const) {
      await expectError(await call(path, stranger, { method, ...(body ? { body } : {}) }), 404, 'not_found');
    }
    // Untouched by all that.
    expect((await getEndpoint(ada, e.id)).enabled).toBe(true);
    expect((await json<{ items: unknown[] }>(await call('/v1/webhooks', stranger))).items).toEqual([]);
  });

  it('refuses unsafe targets with a 400 naming the reason, and writes nothing', async () => {
    const ada = await admin();
    const cases: [string, RegExp][] = [
      ['not a url', /not a valid absolute URL/],
      ['ftp://hooks.example.com/x', /only https URLs are allowed, not ftp:/],
      ['http://hooks.example.com/x', /http is allowed only for hosts in WEBHOOK_ALLOW_HOSTS/],
      ['https://user:pw@hooks.example.com/x', /credentials/],
      ['https://10.0.0.5/hook', /10\.0\.0\.5 is a loopback or private address/],
      ['https://169.254.169.254/latest/meta-data', /169\.254\.169\.254 is a loopback or private address/],
      ['https://[::1]/hook', /::1 is a loopback or private address/],
      ['https://localhost/hook', /localhost is a loopback or private address/],
      // The URL parser's spelling of 10.0.0.1: judged as the address it is.
      ['https://0x0a.1/hook', /10\.0\.0\.1 is a loopback or private address/],
      [`https://hooks.example.com/${'a'.repeat(2100)}`, /url/],
    ];
    for (const [url, reason] of cases) {
      const err = await expectError(
        await call('/v1/webhooks', ada, { body: { url, events: ['ping'] } }),
        400,
      );
      expect(['invalid_url', 'validation_failed']).toContain(err.code);
      expect(err.message).toMatch(reason);
      expect(JSON.stringify(err.details)).toContain('url');
    }
    // http on an allow-listed host (tests allow 127.0.0.1) and public https are fine.
    await register(ada, { url: 'https://hooks.example.com/switchboard', events: ['ping'] });
    const e = await register(ada, { url: newHook().url, events: ['ping'] });
    // The same rules on a change.
    const err = await expectError(
      await call(`/v1/webhooks/${e.id}`, ada, { method: 'PATCH', body: { url: 'https://192.168.1.10/x' } }),
      400,
      'invalid_url',
    );
    expect(err.message).toContain('192.168.1.10');
    expect((await getEndpoint(ada, e.id)).url).toBe(e.url);
    const list = await json<{ items: Endpoint[] }>(await call('/v1/webhooks', ada));
    expect(list.items).toHaveLength(2);
  });

  it('validates events and the rest of the body, naming each field', async () => {
    const ada = await admin();
    const url = newHook().url;
    const bad = async (body: unknown, field: string) => {
      const err = await expectError(await call('/v1/webhooks', ada, { body }), 400, 'validation_failed');
      expect((err.details as { field: string }[]).map((d) => d.field)).toContain(field);
    };
    await bad({ url, events: [] }, 'events');
    await bad({ url, events: ['escalation.exploded'] }, 'events.0');
    await bad({ url, events: ['escalation'] }, 'events.0');
    await bad({ url }, 'events');
    await bad({ events: ['ping'] }, 'url');
    await bad({ url, events: ['ping'], format: 'teams' }, 'format');
    await bad({ url, events: ['ping'], secret: 'whsec_mine' }, 'json');
    const e = await register(ada, { url, events: ['ping'] });
    const err = await expectError(
      await call(`/v1/webhooks/${e.id}`, ada, { method: 'PATCH', body: {} }),
      400,
      'validation_failed',
    );
    expect(err.message).toContain('json');
    await expectError(
      await call(`/v1/webhooks/${e.id}`, ada, { method: 'PATCH', body: { rotate_secret: false } }),
      400,
      'validation_failed',
    );
    await expectError(await call('/v1/webhooks/not-a-uuid', ada), 400, 'validation_failed');
    await expectError(
      await call(`/v1/webhooks/${e.id}/deliveries?status=lost`, ada),
      400,
      'validation_failed',
    );
    expect(await deliveries(ada, e.id)).toEqual([]);
  });

  it('refuses an endpoint past MAX_WEBHOOKS_PER_ACCOUNT with 409 limit_reached, and writes nothing', async () => {
    const ada = await admin();
    const limits = { MAX_WEBHOOKS_PER_ACCOUNT: '2' };
    const create = () =>
      callWith(limits, '/v1/webhooks', ada, { body: { url: newHook().url, events: ['ping'] } });
    expect((await create()).status).toBe(201);
    expect((await create()).status).toBe(201);
    const err = await expectError(await create(), 409, 'limit_reached');
    expect(err.message).toContain('MAX_WEBHOOKS_PER_ACCOUNT');
    expect(err.details).toEqual({ limit: 2 });
    const list = await json<{ items: Endpoint[] }>(await call('/v1/webhooks', ada));
    expect(list.items).toHaveLength(2);
  });

  it('sends at most 5 tests per endpoint in any minute: then 429 rate_limited with Retry-After', async () => {
    const ada = await admin();
    const a = await register(ada, { url: newHook().url, events: ['ping'] });
    const b = await register(ada, { url: newHook().url, events: ['ping'] });
    for (let i = 0; i < 5; i++)
      expect((await call(`/v1/webhooks/${a.id}/test`, ada, { method: 'POST' })).status).toBe(202);
    const again = await call(`/v1/webhooks/${a.id}/test`, ada, { method: 'POST' });
    const err = await expectError(again, 429, 'rate_limited');
    expect(err.message).toContain('5 tests per endpoint');
    const retryAfter = Number(again.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    await receivedAtLeast(a.url.split('/').pop() ?? '', 5);
    // Per endpoint: another one of the account is not held back.
    expect((await call(`/v1/webhooks/${b.id}/test`, ada, { method: 'POST' })).status).toBe(202);
  });

  // Regression: a change reached the hub only by an RPC after the commit, retried three times in
  // the background; when all failed, the hub delivered by its old copy until the next change.
  it('tells the hub of an endpoint change even when it cannot be reached at once (the outbox notice)', async () => {
    const ada = await admin();
    const alice = await colleague(ada, 'engineer', 'Alice');
    // The hub holds a copy of the account's endpoints already (it would load a first one anyway).
    await register(ada, { url: newHook().url, events: ['ping'] });
    const hook = newHook();
    // The hub is unreachable from this request only: the commit succeeds, every publish fails.
    const brokenHub = unreachableHub();
    const ctx = createExecutionContext();
    const res = await app.request(
      '/v1/webhooks',
      {
        method: 'POST',
        headers: { authorization: `Bearer ${ada.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: hook.url, events: ['escalation.created'] }),
      },
      { ...env, ACCOUNT_HUB: brokenHub.binding },
      ctx,
    );
    expect(res.status).toBe(201);
    expect((await json<Endpoint>(res)).url).toBe(hook.url);
    await waitOnExecutionContext(ctx);
    expect(brokenHub.attempts()).toBe(4);
    expect((await outboxMarker(env).pending()).map((m) => m.accountId)).toContain(ada.acct);

    // The rare cron delivers the notice; the hub reloads its copy, so the next event reaches the endpoint.
    const c = createScheduledController();
    const sctx = createExecutionContext();
    await scheduled(c, env, sctx);
    await waitOnExecutionContext(sctx);
    expect((await outboxMarker(env).pending()).map((m) => m.accountId)).not.toContain(ada.acct);
    const card = await escalate(alice);
    const [delivery] = await receivedAtLeast(hook.key, 1);
    expect(JSON.parse(delivery?.body ?? '{}')).toMatchObject({
      type: 'escalation.created',
      data: { card: { id: card.id } },
    });
  });
});
