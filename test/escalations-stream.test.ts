import { createExecutionContext, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../worker/app';
import type { EscalationCard } from '../worker/contract/events';
import { EventLog } from '../worker/hub/event-log';
import { hubFor } from '../worker/hub/hub-client';
import { escalate, hubOf, openStream, waitFor } from './escalation-helpers';
import { call, colleague, expectError, makeUser, type TestUser } from './helpers';
import { SseReader } from './sse';

type Created = { card: EscalationCard; version: number };

/**
 * The stream from the start of the log with a 4 KiB client buffer, called in-process: the
 * response body is the adapter's own stream, so nothing reads it until the test does.
 */
const streamWithSmallBuffer = (user: TestUser) =>
  app.request(
    '/v1/escalations/stream?last_event_id=0',
    { headers: { authorization: `Bearer ${user.token}` } },
    { ...env, SSE_BUFFER_BYTES: '4096' },
    createExecutionContext(),
  );

describe('escalation stream', () => {
  it('fans a new escalation out to every subscriber of the account', async () => {
    const alice = await makeUser();
    const bob = await colleague(alice, 'engineer', 'Bob');
    const admin = await colleague(alice, 'admin', 'Ada');
    const readers = await Promise.all([openStream(bob), openStream(admin), openStream(alice)]);
    const card = await escalate(alice, { severity: 'urgent' });
    for (const reader of readers) {
      const frame = await reader.nextEvent();
      expect(frame?.event).toBe('escalation.created');
      expect(typeof frame?.id).toBe('number');
      const data = frame?.data as Created;
      expect(data.card).toMatchObject({
        id: card.id,
        severity: 'urgent',
        status: 'open',
        ai_status: 'pending',
      });
      expect(data.version).toBe(card.version);
      await reader.close();
    }
  });

  it('replays exactly the missed events, in order, then goes live', async () => {
    const alice = await makeUser();
    const hub = hubOf(alice);
    const first = await openStream(alice);
    await escalate(alice, { reason: 'one' });
    const seen = await first.nextEvent();
    await first.close();
    for (const reason of ['two', 'three', 'four']) await escalate(alice, { reason });
    // The assessment job publishes too; what was missed is whatever the log holds after `seen`.
    const logged = await hub.lastEventId('escalations');
    const missedCount = logged - (seen?.id ?? 0);

    const resumed = await openStream(alice, seen?.id);
    const replayed = await resumed.events(missedCount);
    expect(replayed.map((f) => f.id)).toEqual(
      Array.from({ length: missedCount }, (_, i) => (seen?.id ?? 0) + 1 + i),
    );
    const created = replayed.filter((f) => f.event === 'escalation.created');
    expect(created.map((f) => (f.data as Created).card.reason)).toEqual(['two', 'three', 'four']);

    const live = await escalate(alice, { reason: 'five' });
    const next = await resumed.nextEvent();
    expect(next?.id).toBe(logged + 1);
    expect(next?.event === 'escalation.created' || next?.event === 'escalation.assessed').toBe(true);
    const rest = await resumed.events(10, 1_000);
    const all = [next, ...rest];
    // Continuity: every id once, no gap, nothing doubled.
    expect(all.map((f) => f?.id)).toEqual(all.map((_, i) => logged + 1 + i));
    expect(
      all.some((f) => f?.event === 'escalation.created' && (f.data as Created).card.id === live.id),
    ).toBe(true);
    await resumed.close();
  });

  it('accepts ?last_event_id= like the header', async () => {
    const alice = await makeUser();
    await escalate(alice, { reason: 'a' });
    await escalate(alice, { reason: 'b' });
    const res = await call('/v1/escalations/stream?last_event_id=1', alice);
    const reader = new SseReader(res);
    const frames = await reader.events(5, 1_000);
    expect(frames[0]?.id).toBe(2);
    expect(
      frames.some((f) => f.event === 'escalation.created' && (f.data as Created).card.reason === 'b'),
    ).toBe(true);
    await reader.close();
  });

  it('sends reset first for an id newer than the log, and for one older than what is retained', async () => {
    const alice = await makeUser();
    await escalate(alice);
    const unknown = await openStream(alice, 999);
    const reset = await unknown.nextEvent();
    expect(reset).toMatchObject({ event: 'reset', id: 1, data: { reason: 'unknown', last_event_id: 1 } });
    await unknown.close();

    for (let i = 0; i < 3; i++) await escalate(alice);
    const last = await runInDurableObject(hubOf(alice), (_hub, state) => {
      const log = new EventLog(state.storage.sql);
      // Retain only the newest event, as if the rest had aged out.
      log.purge('escalations', 0, 1);
      return log.lastId('escalations');
    });
    const old = await openStream(alice, 1);
    expect(await old.nextEvent()).toMatchObject({
      event: 'reset',
      id: last,
      data: { reason: 'too_old', last_event_id: last },
    });
    await old.close();
    const fine = await openStream(alice, last - 1);
    expect((await fine.nextEvent())?.id).toBe(last);
    await fine.close();
  });

  it('writes keepalive comments without ids, which are never replayed', async () => {
    const alice = await makeUser();
    const reader = await openStream(alice);
    const frames = [];
    for (let i = 0; i < 3; i++) frames.push(await reader.next(2_000));
    expect(
      frames.every((f) => f?.comment === 'keepalive' && f.id === undefined && f.event === undefined),
    ).toBe(true);
    await reader.close();
    await escalate(alice);
    const resumed = await openStream(alice, 0);
    const first = await resumed.next();
    expect(first?.event).toBe('escalation.created');
    await resumed.close();
  });

  it("never shows account A's events to account B", async () => {
    const a = await makeUser();
    const b = await makeUser();
    const readerB = await openStream(b);
    await escalate(a);
    const frame = await readerB.next(500);
    expect(frame === undefined || frame.comment === 'keepalive').toBe(true);
    expect(await readerB.events(1, 300)).toEqual([]);
    await readerB.close();
  });

  it('reaches one hub from every spelling of an account id', async () => {
    const canonical = crypto.randomUUID();
    const ids = [canonical, canonical.toUpperCase(), canonical.replace(/-/g, ''), `{${canonical}}`].map((s) =>
      hubFor(env, s).id.toString(),
    );
    expect(new Set(ids).size).toBe(1);
    expect(hubFor(env, new String(canonical)).id.toString()).toBe(ids[0]);
    const lower = await makeUser({ acct: canonical });
    const upper = await makeUser({ acct: canonical.toUpperCase().replace(/-/g, '') });
    const reader = await openStream(upper);
    const card = await escalate(lower);
    const frame = await reader.nextEvent();
    expect((frame?.data as Created | undefined)?.card.id).toBe(card.id);
    await reader.close();
  });

  it('releases the hub socket when the client goes away', async () => {
    const alice = await makeUser();
    const hub = hubOf(alice);
    const controller = new AbortController();
    const reader = await openStream(alice, undefined, controller.signal);
    expect(await hub.subscriberCount('escalations')).toBe(1);
    await reader.close();
    controller.abort();
    await waitFor(
      async () => ((await hub.subscriberCount('escalations')) === 0 ? true : undefined),
      'socket release',
    );
  });

  it('closes a subscriber that stops reading and lets it resume by Last-Event-ID with nothing lost', async () => {
    const alice = await makeUser();
    // Nothing reads the response yet, so its queue fills as the hub sends.
    const res = await streamWithSmallBuffer(alice);
    expect(res.status).toBe(200);
    for (let i = 0; i < 12; i++) await escalate(alice, { reason: `r${i}` });
    const slow = new SseReader(res);
    const delivered = [];
    for (let f = await slow.next(1_000); f; f = await slow.next(1_000))
      if (f.id !== undefined) delivered.push(f.id);
    expect(slow.ended).toBe(true);
    const total = await hubOf(alice).lastEventId('escalations');
    expect(delivered.length).toBeLessThan(total);
    expect(delivered).toEqual(delivered.map((_, i) => i + 1));

    const resumed = await openStream(alice, delivered.at(-1));
    const rest = await resumed.events(total - delivered.length, 5_000);
    await resumed.close();
    expect([...delivered, ...rest.map((f) => f.id)]).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('pages a long replay to a client far behind, without closing it and without holding the backlog', async () => {
    const alice = await makeUser();
    const hub = hubOf(alice);
    const events = Array.from({ length: 400 }, (_, i) => ({
      key: `bulk-${i}`,
      topic: 'escalations',
      type: 'escalation.cancelled',
      data: { n: i, pad: 'x'.repeat(300) },
    }));
    for (let i = 0; i < events.length; i += 100) await hub.publish(alice.acct, events.slice(i, i + 100));
    // A 4 KiB client buffer means 1 KiB pages: 400 events take well over a hundred pages.
    const res = await streamWithSmallBuffer(alice);
    const reader = new SseReader(res);
    const got = await reader.events(400, 10_000);
    expect(got.map((f) => f.id)).toEqual(events.map((_, i) => i + 1));
    expect(reader.ended).toBe(false);
    // Then it is live.
    await hub.publish(alice.acct, [
      { key: 'after', topic: 'escalations', type: 'escalation.cancelled', data: {} },
    ]);
    expect((await reader.nextEvent())?.id).toBe(401);
    await reader.close();
  });

  it('answers bad stream requests with JSON errors', async () => {
    const alice = await makeUser();
    const viewer = await colleague(alice, 'viewer');
    await expectError(await call('/v1/escalations/stream', viewer), 403, 'forbidden');
    await expectError(await call('/v1/escalations/stream', null), 401);
    for (const bad of ['abc', '-1', '1.5', '99999999999999999999']) {
      await expectError(
        await call('/v1/escalations/stream', alice, { headers: { 'last-event-id': bad } }),
        400,
        'validation_failed',
      );
    }
  });
});
