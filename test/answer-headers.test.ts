// Every answer carries a request id and the security headers; no answer or run event carries
// internal error text, which goes to the log under that id (DESIGN.md "Limits and hardening").
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { app } from '../worker/app';
import { hubFor } from '../worker/hub/hub-client';
import { call, createSession, expectError, makeUser } from './helpers';
import { internalTextIn } from './internal-text';
import { linearGraph, openRunStream, readToEnd, runGraph, waitForStatus } from './runs-helpers';

function expectSecurityHeaders(res: Response) {
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._:=-]{1,128}$/);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('answer headers', () => {
  it('puts nosniff, Referrer-Policy, a CSP and X-Request-Id on every kind of answer', async () => {
    const user = await makeUser();
    const session = await createSession(user);
    const answers = [
      await call('/healthz', null),
      await call('/openapi.json', null),
      await call('/v1/sessions', user),
      await call('/v1/sessions', null),
      await call(`/v1/sessions/${crypto.randomUUID()}`, user),
      await call('/v1/nowhere', user),
      await call('/v1/sessions', user, { body: '{"title":' }),
      await call(`/v1/sessions/${session.id}/steps`, user, { body: { action: 'x', outcome: 'nope' } }),
    ];
    for (const res of answers) {
      expectSecurityHeaders(res);
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      await res.body?.cancel();
    }
    // The event stream too, before its first frame.
    const controller = new AbortController();
    const stream = await call('/v1/escalations/stream', user, { signal: controller.signal });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    expectSecurityHeaders(stream);
    controller.abort();
    await stream.body?.cancel().catch(() => undefined);
    // The API reference loads its script from a CDN: it may not be framed, and that is all.
    const docs = await call('/docs', null);
    expectSecurityHeaders(docs);
    expect(docs.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
  });

  it('honours a sane incoming X-Request-Id and replaces anything else', async () => {
    const ok = await call('/healthz', null, { headers: { 'x-request-id': 'trace-abc_123.4:5=' } });
    expect(ok.headers.get('x-request-id')).toBe('trace-abc_123.4:5=');
    for (const bad of ['a b', '<script>', 'x'.repeat(129), 'a/b']) {
      const res = await call('/healthz', null, { headers: { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id');
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('internal errors', () => {
  it('answers an unexpected failure with a stable code and the request id; the detail goes to the log', async () => {
    const user = await makeUser();
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    // A hub binding that fails the way a bug would, with the runtime's kind of message.
    const broken = {
      idFromName: (name: string) => env.ACCOUNT_HUB.idFromName(name),
      get: () => ({
        lastEventId: () => {
          throw new TypeError("Cannot read properties of undefined (reading 'last_id') at worker/hub.ts:1:2");
        },
      }),
    };
    const ctx = createExecutionContext();
    const res = await app.request(
      '/v1/escalations',
      { headers: { authorization: `Bearer ${user.token}`, 'x-request-id': 'req-internal-1' } },
      { ...env, ACCOUNT_HUB: broken },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const err = await expectError(res, 500, 'internal');
    expect(res.headers.get('x-request-id')).toBe('req-internal-1');
    expect(err.message).toBe('internal error; the log has the details under request id req-internal-1');
    expect(internalTextIn(JSON.stringify(err))).toBeUndefined();
    const logged = errors.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: 'unhandled error',
        requestId: 'req-internal-1',
        err: expect.objectContaining({ name: 'TypeError' }),
      }),
    );
  });

  it('logs every line about a request under its id, work left to waitUntil included', async () => {
    const user = await makeUser();
    const session = await createSession(user);
    const lines: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: string) => void lines.push(line));
    const brokenHub = {
      idFromName: (name: string) => env.ACCOUNT_HUB.idFromName(name),
      get: () => ({ publish: () => Promise.reject(new Error('hub unreachable')) }),
    };
    const ctx = createExecutionContext();
    const res = await app.request(
      `/v1/sessions/${session.id}/handoffs`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${user.token}`,
          'content-type': 'application/json',
          'x-request-id': 'req-publish-1',
        },
        body: JSON.stringify({ intent: 'escalate', reason: 'log context', severity: 'low' }),
      },
      { ...env, ACCOUNT_HUB: brokenHub },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(201);
    // The publish runs after the answer; its failure is logged under the request's id.
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({
        msg: 'publish to the account hub failed',
        requestId: 'req-publish-1',
      }),
    );
  });

  it('ends a run that fails inside the hub with code internal and a reference, never the SQLite text', async () => {
    const user = await makeUser();
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    // Every node_started write fails the way a storage bug would, with SQLite's own words.
    await runInDurableObject(hubFor(env, user.acct), (_hub, state) => {
      state.storage.sql.exec(`create trigger fail_steps before insert on events when new.type = 'node_started'
        begin select raise(abort, 'SQLITE_CONSTRAINT: internal detail from worker/runs/x.ts:10:5'); end`);
    });
    const { run } = await runGraph(user, linearGraph, { name: 'Ada' });
    const view = await waitForStatus(user, run.run_id, 'failed');
    expect(view.error?.code).toBe('internal');
    expect(view.error?.message).toMatch(
      /^the run stopped on an internal error; the log has it under reference [0-9a-f-]{36}$/,
    );
    const frames = await readToEnd(await openRunStream(user, run.run_id));
    const terminal = frames.at(-1);
    expect(terminal?.event).toBe('error');
    expect(internalTextIn(JSON.stringify(terminal?.data))).toBeUndefined();
    expect(JSON.stringify(frames)).not.toContain('internal detail');
  });
});
