import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { AccountHub } from '../worker/account-hub';
import { relayFor } from '../worker/hub/hub-client';
import type { Hub } from '../worker/hub/hub-module';
import { sseFrame } from '../worker/lib/sse-frame';
import { drainHub, escalate, hubOf, openStream, waitFor } from './escalation-helpers';
import { createSession, makeUser, type TestUser } from './helpers';
import type { Frame, SseReader } from './sse';

// The suite runs with RELAY_FANOUT_THRESHOLD=5 (vitest.config.ts): an account hub holds five
// subscribers itself and sends the others to relay hubs `relay:<account>:<n>` of five each.
const THRESHOLD = 5;

/** A subscriber as a client sees it: every event id it got, in order. */
interface Client {
  reader: SseReader;
  from: number;
  ids: number[];
  frames: Frame[];
}

async function subscribe(user: TestUser, from: number): Promise<Client> {
  return { reader: await openStream(user, from), from, ids: [], frames: [] };
}

/** Reads until the client has seen `lastId` (or the deadline): ids land in `ids`. */
async function readThrough(client: Client, lastId: number, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((client.ids.at(-1) ?? client.from) < lastId && Date.now() < deadline) {
    const f = await client.reader.next(Math.max(1, deadline - Date.now()));
    if (!f) break;
    if (f.event) client.frames.push(f);
    if (f.id !== undefined) client.ids.push(f.id);
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + 1 + i);

const socketsOf = (stub: DurableObjectStub) =>
  runInDurableObject(stub, (_instance: unknown, state: DurableObjectState) => state.getWebSockets().length);

/** The host's module interface, for broadcasting an ephemeral frame as a module would. */
const hostOf = (instance: AccountHub) => (instance as unknown as { host: Hub }).host;

describe('relay hubs', () => {
  it('holds the first subscribers itself and sends the rest to relays of the threshold size', async () => {
    const alice = await makeUser();
    const hub = hubOf(alice);
    const clients = [];
    for (let i = 0; i < 12; i++) clients.push(await subscribe(alice, 0));
    expect(await socketsOf(hub)).toBe(THRESHOLD);
    expect(await socketsOf(relayFor(env, alice.acct, 0))).toBe(THRESHOLD);
    expect(await socketsOf(relayFor(env, alice.acct, 1))).toBe(2);
    expect(await hub.subscriberCount('escalations')).toBe(12);

    const card = await escalate(alice, { reason: 'to all twelve' });
    const last = await hub.lastEventId('escalations');
    for (const c of clients) {
      await readThrough(c, last);
      expect(c.ids).toEqual(range(0, last));
      expect(c.frames.some((f) => (f.data as { card?: { id: string } }).card?.id === card.id)).toBe(true);
    }
    for (const c of clients) await c.reader.close();
  });

  it('delivers every event once and in order while subscribers come and go around it', async () => {
    const alice = await makeUser();
    const hub = hubOf(alice);
    const session = await createSession(alice);
    const clients: Client[] = [];
    const closed: Client[] = [];
    for (let round = 0; round < 6; round++) {
      // Two join (one live, one resuming from the start), an event, one leaves.
      clients.push(await subscribe(alice, await hub.lastEventId('escalations')));
      clients.push(await subscribe(alice, 0));
      await escalate(alice, { sessionId: session.id, reason: `round ${round}` });
      if (round % 2 === 1) {
        const gone = clients.splice(1, 1)[0] as Client;
        await gone.reader.close();
        closed.push(gone);
      }
    }
    await drainHub(alice);
    const last = await hub.lastEventId('escalations');
    expect(last).toBeGreaterThanOrEqual(6);
    // Some of them are behind relays by now.
    expect(clients.length).toBeGreaterThan(THRESHOLD);
    await waitFor(
      async () => ((await hub.subscriberCount('escalations')) === clients.length ? true : undefined),
      'closed subscribers to leave the registry',
    );
    for (const c of clients) {
      await readThrough(c, last);
      expect(c.ids).toEqual(range(c.from, last));
    }
    for (const c of clients) await c.reader.close();
  });

  it('replays from the account hub through a relay, then goes live with no gap or duplicate', async () => {
    const alice = await makeUser();
    const hub = hubOf(alice);
    const session = await createSession(alice);
    const holders = [];
    for (let i = 0; i < THRESHOLD; i++) holders.push(await subscribe(alice, 0));
    for (let i = 0; i < 4; i++) await escalate(alice, { sessionId: session.id, reason: `before ${i}` });
    await drainHub(alice);
    const before = await hub.lastEventId('escalations');

    // Events keep coming while the relayed subscriber joins and replays.
    const publishing = (async () => {
      for (let i = 0; i < 4; i++) await escalate(alice, { sessionId: session.id, reason: `during ${i}` });
    })();
    const late = await subscribe(alice, 1);
    await publishing;
    await drainHub(alice);
    const last = await hub.lastEventId('escalations');
    expect(last).toBeGreaterThan(before);
    expect(await socketsOf(relayFor(env, alice.acct, 0))).toBe(1);
    await readThrough(late, last);
    expect(late.ids).toEqual(range(1, last));

    // And live afterwards.
    await escalate(alice, { sessionId: session.id, reason: 'after' });
    const after = await hub.lastEventId('escalations');
    await readThrough(late, after);
    expect(late.ids).toEqual(range(1, after));
    for (const c of [...holders, late]) await c.reader.close();
  });

  it('keeps every sequence whole when subscribes race publishes', async () => {
    const alice = await makeUser();
    const hub = hubOf(alice);
    // Straight into the hub (no Postgres), so publishes are fast enough to overtake joins.
    let n = 0;
    const publish = () =>
      hub.publish(alice.acct, [
        { key: `race-${n}`, topic: 'escalations', type: 'escalation.resolved', data: { card: { n: n++ } } },
      ]);
    for (let i = 0; i < 3; i++) await publish();
    const clients: Client[] = [];
    const joining = Array.from({ length: 3 * THRESHOLD }, async (_, i) => {
      const from = i % 3 === 0 ? await hub.lastEventId('escalations') : i % 3;
      clients.push(await subscribe(alice, from));
    });
    const publishing = Array.from({ length: 40 }, () => publish());
    await Promise.all([...joining, ...publishing]);
    for (let i = 0; i < 3; i++) await publish();
    const last = await hub.lastEventId('escalations');
    for (const c of clients) {
      await readThrough(c, last);
      expect(c.ids).toEqual(range(c.from, last));
    }
    for (const c of clients) await c.reader.close();
  });

  it('sends ephemeral frames to relayed subscribers too, and never replays them', async () => {
    const alice = await makeUser();
    const hub = hubOf(alice);
    const clients = [];
    for (let i = 0; i < THRESHOLD + 2; i++) clients.push(await subscribe(alice, 0));
    await runInDurableObject(hub, (instance: AccountHub) => {
      // Any frame without an id is ephemeral; the reader skips real presence frames (the presence
      // module sends one to every new subscriber), so this one has a name of its own.
      hostOf(instance).broadcast('escalations', sseFrame('probe', { online: [{ user_id: alice.sub }] }));
    });
    for (const c of clients) {
      const f = await c.reader.nextEvent();
      expect(f?.event).toBe('probe');
      expect(f?.id).toBeUndefined();
    }
    const resumed = await subscribe(alice, 0);
    const card = await escalate(alice);
    const first = await resumed.reader.nextEvent();
    expect(first?.event).toBe('escalation.created');
    expect((first?.data as { card?: { id: string } } | undefined)?.card?.id).toBe(card.id);
    for (const c of [...clients, resumed]) await c.reader.close();
  });

  it('lets the subscribers of a relay that restarts resume through the hub with nothing lost', async () => {
    const alice = await makeUser();
    const hub = hubOf(alice);
    const session = await createSession(alice);
    const clients = [];
    for (let i = 0; i < THRESHOLD + 3; i++) clients.push(await subscribe(alice, 0));
    await escalate(alice, { sessionId: session.id, reason: 'before the restart' });
    const relay = relayFor(env, alice.acct, 0);
    expect(await socketsOf(relay)).toBe(3);

    // The relay restarts: its instance and every socket it held are gone.
    await runInDurableObject(relay, (_instance: unknown, state: DurableObjectState) => {
      state.abort('relay restart (test)');
    }).catch(() => undefined);
    for (const c of clients.slice(THRESHOLD)) {
      await waitFor(async () => {
        const f = await c.reader.next(200);
        if (f?.id !== undefined) c.ids.push(f.id);
        return c.reader.ended ? true : undefined;
      }, 'a relayed stream to end with its relay');
    }
    // The account hub learns at its next delivery that the relay lost them.
    await escalate(alice, { sessionId: session.id, reason: 'during the outage' });
    await waitFor(
      async () => ((await hub.subscriberCount('escalations')) === THRESHOLD ? true : undefined),
      'the hub to forget the lost subscribers',
    );

    // They resume by Last-Event-ID, as a client does, and go through a relay again.
    const resumed = [];
    for (const c of clients.slice(THRESHOLD)) {
      const from = c.ids.at(-1) ?? 0;
      resumed.push({ before: c.ids, client: await subscribe(alice, from) });
    }
    await escalate(alice, { sessionId: session.id, reason: 'after the restart' });
    await drainHub(alice);
    const last = await hub.lastEventId('escalations');
    for (const { before, client } of resumed) {
      await readThrough(client, last);
      expect([...before, ...client.ids]).toEqual(range(0, last));
    }
    for (const c of clients.slice(0, THRESHOLD)) {
      await readThrough(c, last);
      expect(c.ids).toEqual(range(0, last));
    }
    for (const c of [...clients, ...resumed.map((r) => r.client)]) await c.reader.close();
  });

  it('checks its relays when it starts again, and forgets the subscribers a relay lost meanwhile', async () => {
    const alice = await makeUser();
    const hub = hubOf(alice);
    const clients = [];
    for (let i = 0; i < THRESHOLD + 2; i++) clients.push(await subscribe(alice, 0));
    expect(await hub.subscriberCount('escalations')).toBe(THRESHOLD + 2);
    // Both restart, the relay first, and no event follows: only the hub's own check can tell.
    await runInDurableObject(relayFor(env, alice.acct, 0), (_i: unknown, state: DurableObjectState) => {
      state.abort('relay restart (test)');
    }).catch(() => undefined);
    await runInDurableObject(hub, (_i: unknown, state: DurableObjectState) => {
      state.abort('hub restart (test)');
    }).catch(() => undefined);
    await waitFor(
      async () => ((await hubOf(alice).subscriberCount('escalations')) === 0 ? true : undefined),
      'the restarted hub to drop the relayed subscribers its relay lost',
    );
    for (const c of clients) await c.reader.close();
  });

  it('forgets a relayed subscriber when its client goes away', async () => {
    const alice = await makeUser();
    const hub = hubOf(alice);
    const clients = [];
    for (let i = 0; i < THRESHOLD + 1; i++) clients.push(await subscribe(alice, 0));
    expect(await hub.subscriberCount('escalations')).toBe(THRESHOLD + 1);
    await clients.at(-1)?.reader.close();
    await waitFor(
      async () => ((await hub.subscriberCount('escalations')) === THRESHOLD ? true : undefined),
      'the relayed subscriber to leave',
    );
    expect(await socketsOf(relayFor(env, alice.acct, 0))).toBe(0);
    for (const c of clients.slice(0, THRESHOLD)) await c.reader.close();
  });
});
