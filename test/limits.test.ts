// The limits of DESIGN.md "Limits and hardening" through the API, each on its failing path: a 429
// with Retry-After and nothing written, or a node failure whose message names the limit.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../worker/config';
import { EventLog, FrameTooLargeError, MAX_FRAME_BYTES } from '../worker/hub/event-log';
import { hubFor } from '../worker/hub/hub-client';
import { waitFor } from './escalation-helpers';
import { colleague, createSession, expectError, json, makeUser, type TestUser, withDb } from './helpers';
import {
  callWith,
  countOf,
  createGraph,
  httpBase,
  humanGraph,
  linearGraph,
  runGraph,
  status,
  waitForStatus,
} from './runs-helpers';
import { SseReader } from './sse';

function retryAfterOf(res: Response): number {
  const value = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(value) && value >= 1).toBe(true);
  return value;
}

describe('MAX_STREAMS_PER_USER', () => {
  const limits = { MAX_STREAMS_PER_USER: '2' };
  async function open(user: TestUser, path = '/v1/escalations/stream') {
    const res = await callWith(limits, path, user);
    if (res.status !== 200) return { res, reader: undefined };
    const reader = new SseReader(res);
    expect((await reader.next())?.retry).toBeDefined();
    return { res, reader };
  }

  it('refuses a user a stream past the limit, across topics, with 429 and Retry-After; a closed one frees its slot', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, humanGraph, { name: 'Ada' });
    await waitForStatus(alice, run.run_id, 'paused');
    const first = await open(alice);
    const second = await open(alice, `/v1/runs/${run.run_id}/stream`);
    expect(second.reader).toBeDefined();
    const refused = await open(alice);
    const err = await expectError(refused.res, 429, 'too_many_streams');
    expect(err.message).toContain('MAX_STREAMS_PER_USER');
    expect(retryAfterOf(refused.res)).toBe(10);
    // Another engineer of the account is counted on their own.
    const bob = await colleague(alice);
    const bobs = await open(bob);
    expect(bobs.reader).toBeDefined();
    // Alice closes one; the hub sees the socket go and gives the slot back.
    await first.reader?.close();
    const third = await waitFor(async () => {
      const attempt = await open(alice);
      return attempt.reader ? attempt : undefined;
    }, 'a slot after closing a stream');
    for (const s of [second, third, bobs]) await s.reader?.close();
  });

  it('holds under concurrent opens: never more than the limit at once', async () => {
    const alice = await makeUser();
    const opened = await Promise.all(Array.from({ length: 6 }, () => open(alice)));
    expect(opened.filter((o) => o.reader).length).toBe(2);
    expect(opened.filter((o) => o.res.status === 429).length).toBe(4);
    for (const o of opened) await o.reader?.close();
  });
});

describe('MAX_HANDOFFS_PER_MINUTE', () => {
  const limits = { MAX_HANDOFFS_PER_MINUTE: '3' };
  const escalate = (user: TestUser, sessionId: string, key?: string, reason = 'stuck') =>
    callWith(limits, `/v1/sessions/${sessionId}/handoffs`, user, {
      body: { intent: 'escalate', reason, severity: 'normal' },
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    });
  const counts = (accountId: string) =>
    withDb(async (db) => {
      const r = await db.execute<{ handoffs: number; outbox: number }>(sql`
        select (select count(*) from handoffs where account_id = ${accountId}::uuid)::int as handoffs,
               (select count(*) from outbox where account_id = ${accountId}::uuid and event_type = 'escalation.created')::int as outbox`);
      return r.rows[0];
    });

  it('refuses the handoff past the limit with 429 and Retry-After, and writes nothing', async () => {
    const alice = await makeUser();
    const session = await createSession(alice);
    for (let i = 0; i < 3; i++) expect((await escalate(alice, session.id, `k${i}`)).status).toBe(201);
    const refused = await escalate(alice, session.id, 'k3');
    const err = await expectError(refused, 429, 'too_many_handoffs');
    expect(err.message).toContain('MAX_HANDOFFS_PER_MINUTE');
    expect(retryAfterOf(refused)).toBeLessThanOrEqual(60);
    expect(await counts(alice.acct)).toEqual({ handoffs: 3, outbox: 3 });
    // A retry of a request that got through is still answered, limit or not.
    const replay = await escalate(alice, session.id, 'k1');
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    // The limit is per user: a colleague escalates the same session.
    expect((await escalate(await colleague(alice), session.id)).status).toBe(201);
    // A missing session is still a 404, not a 429, and costs no place.
    await expectError(await escalate(alice, crypto.randomUUID()), 404, 'not_found');
  });

  it('is a sliding minute: the place comes back as the oldest handoff leaves the window', async () => {
    const alice = await makeUser();
    const session = await createSession(alice);
    for (let i = 0; i < 3; i++) expect((await escalate(alice, session.id)).status).toBe(201);
    await expectError(await escalate(alice, session.id), 429, 'too_many_handoffs');
    // Time is moved, not waited for: the oldest handoff is now 61 s old.
    await withDb((db) =>
      db.execute(sql`
        update handoff_rate set recent[1] = recent[1] - interval '61 seconds'
        where account_id = ${alice.acct}::uuid and user_id = ${alice.sub}::uuid`),
    );
    expect((await escalate(alice, session.id)).status).toBe(201);
    await expectError(await escalate(alice, session.id), 429, 'too_many_handoffs');
    const [row] = await withDb(
      async (db) =>
        (
          await db.execute<{ n: number }>(
            sql`select cardinality(recent)::int as n from handoff_rate where user_id = ${alice.sub}::uuid`,
          )
        ).rows,
    );
    expect(row?.n).toBe(3);
  });

  it('lets exactly the limit through when creates race', async () => {
    const alice = await makeUser();
    const session = await createSession(alice);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => escalate(alice, session.id, `race-${i}`)),
    );
    expect(answers.filter((r) => r.status === 201)).toHaveLength(3);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(5);
    expect(await counts(alice.acct)).toEqual({ handoffs: 3, outbox: 3 });
  });
});

describe('MAX_PAUSED_RUNS_PER_ACCOUNT', () => {
  const limits = { MAX_PAUSED_RUNS_PER_ACCOUNT: '2' };
  const start = (user: TestUser, graphId: string) =>
    callWith(limits, `/v1/graphs/${graphId}/run`, user, { body: { input: { name: 'Ada' } } });

  it('refuses a run start while the account holds the limit of paused runs, and keeps no trace of it', async () => {
    const alice = await makeUser();
    const graph = await createGraph(alice, humanGraph);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await start(alice, graph.id);
      expect(res.status).toBe(202);
      ids.push((await json<{ run_id: string }>(res)).run_id);
    }
    for (const id of ids) await waitForStatus(alice, id, 'paused');
    const refused = await start(alice, graph.id);
    const err = await expectError(refused, 429, 'too_many_paused_runs');
    expect(err.message).toContain('MAX_PAUSED_RUNS_PER_ACCOUNT');
    expect(retryAfterOf(refused)).toBeLessThanOrEqual(60);
    // Per account: a colleague is refused too. The refused runs left no row.
    await expectError(await start(await colleague(alice), graph.id), 429, 'too_many_paused_runs');
    const list = await json<{ items: { id: string }[] }>(await callWith(limits, '/v1/runs', alice));
    expect(list.items.map((r) => r.id).sort()).toEqual([...ids].sort());
    // A graph without a pause starts meanwhile? No: the start is refused whatever the graph.
    const linear = await createGraph(alice, linearGraph);
    await expectError(await start(alice, linear.id), 429, 'too_many_paused_runs');
    // Resuming is never refused by it, and frees a place.
    const resumed = await callWith(limits, `/v1/runs/${ids[0]}/resume`, alice, { body: { input: 'vpn' } });
    expect(resumed.status).toBe(202);
    await waitForStatus(alice, ids[0] as string, 'completed');
    expect((await start(alice, linear.id)).status).toBe(202);
  });
});

describe('TEMPLATE_MAX_BYTES and RUN_STATE_MAX_BYTES', () => {
  it('fails a prompt over the template limit with node_failed naming it, in the status and on the stream', async () => {
    const alice = await makeUser();
    const schema = {
      entry: 'ask',
      nodes: [{ id: 'ask', type: 'llm', prompt: 'Summarise {{doc}} and {{doc}}', output_key: 'answer' }],
      edges: [{ from: 'ask', to: '__end__' }],
    };
    const { run } = await runGraph(alice, schema, { doc: 'é'.repeat(9_000) });
    const view = await waitForStatus(alice, run.run_id, 'failed');
    expect(view.error).toEqual({
      code: 'node_failed',
      message:
        'node "ask" would render a template over the template limit TEMPLATE_MAX_BYTES (32768 bytes, 32 KiB)',
    });
    expect((await status(alice, run.run_id)).state).toEqual({ doc: 'é'.repeat(9_000) });
  });

  it('refuses a RUN_STATE_MAX_BYTES that would let a frame pass 1 MiB', () => {
    expect(() => getConfig({ ...env, RUN_STATE_MAX_BYTES: String(2 * 1024 * 1024) })).toThrow(
      /RUN_STATE_MAX_BYTES: must be at most 983040/,
    );
    expect(getConfig(env).RUN_STATE_MAX_BYTES).toBe(256 * 1024);
    expect(getConfig(env).TEMPLATE_MAX_BYTES).toBe(32 * 1024);
  });

  it('never logs an event whose frame would pass 1 MiB', async () => {
    const alice = await makeUser();
    await runInDurableObject(hubFor(env, alice.acct), (_hub, state) => {
      const events = new EventLog(state.storage.sql);
      events.append('t', 'small', { ok: true });
      expect(() => events.append('t', 'big', { text: 'x'.repeat(MAX_FRAME_BYTES) })).toThrow(
        FrameTooLargeError,
      );
      // Multi-byte text counts in bytes, not characters.
      expect(() => events.append('t', 'big', { text: '€'.repeat(MAX_FRAME_BYTES / 3) })).toThrow(
        FrameTooLargeError,
      );
      expect(events.lastId('t')).toBe(1);
      expect(events.append('t', 'fits', { text: 'x'.repeat(MAX_FRAME_BYTES - 200) }).id).toBe(2);
    });
  });
});

describe('http_get per the contract', () => {
  const getNode = (url: string) => ({
    entry: 'get',
    nodes: [{ id: 'get', type: 'tool', tool: 'http_get', args: { url }, output_key: 'r' }],
    edges: [{ from: 'get', to: '__end__' }],
  });

  it('reaches the allow-listed host on the allow-listed port only', async () => {
    const alice = await makeUser();
    const other = new URL(httpBase);
    other.port = String(Number(other.port) === 65_535 ? 1 : Number(other.port) + 1);
    const { run } = await runGraph(alice, getNode(`${other.origin}/count/x`));
    const view = await waitForStatus(alice, run.run_id, 'failed');
    expect(view.error?.message).toContain(`${other.host} (host and port) is not in the allow-list`);
  });

  it('percent-encodes state values put into the URL', async () => {
    const alice = await makeUser();
    const key = `enc-${crypto.randomUUID()}`;
    const { run } = await runGraph(alice, getNode(`${httpBase}/count/{{key}}`), {
      key: `${key}/../../__count/x?y`,
    });
    const view = await waitForStatus(alice, run.run_id, 'completed');
    // One path segment, decoded by the server as the key it was: not a path of its own.
    expect((view.state.r as { body: { key: string } }).body.key).toBe(`${key}/../../__count/x?y`);
  });

  it('does not follow a redirect', async () => {
    const alice = await makeUser();
    const key = `redir-${crypto.randomUUID()}`;
    const { run } = await runGraph(alice, getNode(`${httpBase}/redirect/${key}`));
    const view = await waitForStatus(alice, run.run_id, 'failed');
    expect(view.error).toEqual({
      code: 'node_failed',
      message: expect.stringContaining('answered a redirect (HTTP 302); redirects are not followed'),
    });
    expect(await countOf(key)).toBe(0);
  });
});
