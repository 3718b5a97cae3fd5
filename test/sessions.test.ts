import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { app } from '../worker/app';
import { call, createSession, expectError, json, makeUser, withDb } from './helpers';

interface Session {
  id: string;
  title: string;
  problem_summary: string;
  customer: string | null;
  steps: { action: string; outcome: string; notes: string | null }[];
}

describe('sessions API', () => {
  it('creates a session, records steps and returns them in order', async () => {
    const user = await makeUser();
    const res = await call('/v1/sessions', user, {
      body: { title: 'Login loop', problem_summary: 'SSO redirects forever', customer: 'Acme' },
    });
    expect(res.status).toBe(201);
    const created = await json<Session>(res);
    expect(res.headers.get('location')).toBe(`/v1/sessions/${created.id}`);
    expect(created).toMatchObject({ title: 'Login loop', customer: 'Acme', steps: [] });

    for (const [action, outcome] of [
      ['cleared cookies', 'failed'],
      ['tried another browser', 'partial'],
    ]) {
      const step = await call(`/v1/sessions/${created.id}/steps`, user, {
        body: { action, outcome, notes: 'n' },
      });
      expect(step.status).toBe(201);
    }
    const got = await json<Session>(await call(`/v1/sessions/${created.id.toUpperCase()}`, user));
    expect(got.steps.map((s) => [s.action, s.outcome])).toEqual([
      ['cleared cookies', 'failed'],
      ['tried another browser', 'partial'],
    ]);
  });

  it('pages through a list with an opaque cursor, newest first, with no overlap', async () => {
    const user = await makeUser();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createSession(user, { title: `s${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const page = await json<{ items: { id: string }[]; next_cursor: string | null }>(
        await call(`/v1/sessions?limit=2${q}`, user),
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((s) => s.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  // Regression: created_at kept microseconds while cursors carry a millisecond Date, so rows in
  // the same millisecond as a page's last item (but earlier) fell between pages.
  it('pages rows created within one millisecond without skipping any', async () => {
    const user = await makeUser();
    await createSession(user, { title: 'provision' });
    await withDb(async (db) => {
      for (const [title, at] of [
        ['a', '2026-01-01T00:00:00.123100Z'],
        ['b', '2026-01-01T00:00:00.123400Z'],
        ['c', '2026-01-01T00:00:00.123700Z'],
      ]) {
        await db.execute(
          sql`insert into sessions (account_id, created_by, title, problem_summary, created_at)
              values (${user.acct}, ${user.sub}, ${title}, 'p', ${at}::timestamptz)`,
        );
      }
    });
    const titles: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const page = await json<{ items: { title: string }[]; next_cursor: string | null }>(
        await call(`/v1/sessions?limit=1${q}`, user),
      );
      titles.push(...page.items.map((s) => s.title));
      cursor = page.next_cursor;
    } while (cursor);
    expect(titles.slice(1).sort()).toEqual(['a', 'b', 'c']);
  });

  it('caps the steps of one session', async () => {
    const user = await makeUser();
    const session = await createSession(user);
    await withDb(async (db) => {
      await db.execute(sql`
        insert into session_steps (session_id, account_id, author_id, action, outcome)
        select ${session.id}, ${user.acct}, ${user.sub}, 'step ' || g, 'unknown' from generate_series(1, 500) g`);
    });
    await expectError(
      await call(`/v1/sessions/${session.id}/steps`, user, {
        body: { action: 'one more', outcome: 'failed' },
      }),
      409,
      'session_full',
    );
  });

  it('rejects bad list queries', async () => {
    const user = await makeUser();
    for (const q of ['limit=0', 'limit=201', 'limit=abc', 'cursor=garbage']) {
      const err = await expectError(await call(`/v1/sessions?${q}`, user), 400, 'validation_failed');
      expect(err.message).toMatch(/limit|cursor/);
    }
  });

  it('names every invalid field', async () => {
    const user = await makeUser();
    const err = await expectError(
      await call('/v1/sessions', user, { body: { title: '', problem_summary: 5, extra: true } }),
      400,
      'validation_failed',
    );
    const fields = (err.details as { field: string }[]).map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['title', 'problem_summary']));
    const session = await createSession(user);
    const stepErr = await expectError(
      await call(`/v1/sessions/${session.id}/steps`, user, { body: { action: 'x', outcome: 'maybe' } }),
      400,
    );
    expect(stepErr.message).toContain('outcome');
  });

  it('answers malformed JSON, wrong content type and oversize bodies with their own errors', async () => {
    const user = await makeUser();
    await expectError(await call('/v1/sessions', user, { body: '{"title": ' }), 400, 'malformed_json');
    await expectError(
      await call('/v1/sessions', user, {
        body: 'title=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      'unsupported_media_type',
    );
    const big = { title: 'big', problem_summary: 'x'.repeat(70 * 1024) };
    await expectError(await call('/v1/sessions', user, { body: big }), 413, 'payload_too_large');
    await expectError(await call('/v1/sessions/not-a-uuid', user), 400, 'validation_failed');
    await expectError(await call(`/v1/sessions/${crypto.randomUUID()}`, user), 404, 'not_found');
    await expectError(await call('/v1/nowhere', user), 404, 'not_found');
  });

  // Review findings: ~3,000 nested arrays overflowed the stack in validation (a 500), and U+0000
  // reached Postgres, which refuses it in text and jsonb.
  it('refuses too-deep JSON and text Postgres cannot store, on every body', async () => {
    const user = await makeUser();
    const deep = `${'['.repeat(5_000)}${']'.repeat(5_000)}`;
    for (const path of ['/v1/sessions', '/v1/graphs', `/v1/graphs/${crypto.randomUUID()}/run`]) {
      await expectError(await call(path, user, { body: `{"input": ${deep}}` }), 400, 'too_deep');
    }
    await expectError(
      await call('/v1/sessions', user, { body: '{"title":"a\\u0000b","problem_summary":"p"}' }),
      400,
      'invalid_text',
    );
    await expectError(
      await call('/v1/sessions', user, { body: '{"title":"\\ud800","problem_summary":"p"}' }),
      400,
      'invalid_text',
    );
    await expectError(
      await call('/v1/sessions', user, { body: '{"ti\\u0000tle":"x"}' }),
      400,
      'invalid_text',
    );
    // Paired surrogates (an emoji) are fine.
    expect(
      (await call('/v1/sessions', user, { body: { title: 'ok 🎉', problem_summary: 'p' } })).status,
    ).toBe(201);
  });

  it('reports health with the database state', async () => {
    const res = await call('/healthz', null);
    expect(await json(res)).toEqual({ ok: true, db: 'up' });
  });
});

describe('misconfiguration', () => {
  it('answers a JSON 503 naming the missing setting', async () => {
    const user = await makeUser();
    const { DATABASE_URL: _, ...withoutDb } = env as unknown as Record<string, unknown>;
    const ctx = createExecutionContext();
    const res = await app.request(
      '/v1/sessions',
      { headers: { authorization: `Bearer ${user.token}` } },
      withoutDb,
      ctx,
    );
    const err = await expectError(res, 503, 'misconfigured');
    expect(err.message).toContain('DATABASE_URL');
  });
});

describe('with Postgres stopped', () => {
  // The database stopped: nothing listens where DATABASE_URL points, exactly what the driver
  // sees when the server is down.
  const down = { ...env, DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:1/postgres' };

  async function request(path: string, token: string, body?: unknown) {
    const ctx = createExecutionContext();
    const res = await app.request(
      path,
      body === undefined
        ? { headers: { authorization: `Bearer ${token}` } }
        : {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          },
      down,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  }

  it('answers 503 with the JSON error and writes nothing', async () => {
    const user = await makeUser();
    const title = `written while down ${crypto.randomUUID()}`;
    const res = await request('/v1/sessions', user.token, { title, problem_summary: 'p' });
    const err = await expectError(res, 503, 'database_unavailable');
    expect(err.message).toMatch(/nothing was written/);
    expect(res.headers.get('retry-after')).toBeTruthy();
    await expectError(await request('/v1/sessions', user.token), 503, 'database_unavailable');
    // Back up: the session was never created.
    const list = await json<{ items: { title: string }[] }>(await call('/v1/sessions', user));
    expect(list.items.map((s) => s.title)).not.toContain(title);
  });

  it('reports the database down on /healthz', async () => {
    const ctx = createExecutionContext();
    const res = await app.request('/healthz', {}, down, ctx);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, db: 'down' });
  });
});
