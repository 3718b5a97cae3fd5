import { describe, expect, it } from 'vitest';
import type { PresenceSnapshot } from '../worker/contract/events';
import { loggedEvents } from './clock-helpers';
import { escalate, hubOf, openStream, waitFor } from './escalation-helpers';
import { call, colleague, expectError, makeUser, type TestUser } from './helpers';
import type { Frame, SseReader } from './sse';

/** Reads presence frames until one satisfies `ok`; fails the test past the deadline. */
async function presence(
  reader: SseReader,
  ok: (p: PresenceSnapshot) => boolean,
  timeoutMs = 5_000,
): Promise<PresenceSnapshot & { frame: Frame }> {
  const deadline = Date.now() + timeoutMs;
  let last: PresenceSnapshot | undefined;
  for (;;) {
    const frame = await reader.next(Math.max(1, deadline - Date.now()));
    if (!frame) throw new Error(`no matching presence frame; last: ${JSON.stringify(last)}`);
    if (frame.event !== 'presence') continue;
    last = frame.data as PresenceSnapshot;
    if (ok(last)) return { ...last, frame };
  }
}

const names = (p: PresenceSnapshot) => p.online.map((u) => u.name);
const stream = (user: TestUser) => openStream(user, undefined, undefined, { ephemeral: true });

describe('presence', () => {
  it('lists who has a stream open, and drops a user when their last stream closes', async () => {
    const alice = await makeUser({ name: 'Alice' });
    const bob = await colleague(alice, 'engineer', 'Bob');
    const watcher = await stream(alice);
    // The current presence when the stream opens, without an id.
    const opened = await presence(watcher, (p) => names(p).includes('Alice'));
    expect(opened.frame.id).toBeUndefined();
    expect(opened.online).toEqual([{ user_id: alice.sub, name: 'Alice' }]);
    const bob1 = await stream(bob);
    const bob2 = await stream(bob);
    expect(names(await presence(bob2, (p) => names(p).length === 2))).toEqual(['Alice', 'Bob']);
    expect(names(await presence(watcher, (p) => names(p).includes('Bob')))).toEqual(['Alice', 'Bob']);
    // One of Bob's two streams closes: he is still online.
    await bob1.close();
    await waitFor(
      async () => ((await hubOf(alice).subscriberCount('escalations')) === 2 ? true : undefined),
      'the hub to see the stream close',
    );
    expect((await hubOf(alice).presence()).online.map((u) => u.name)).toEqual(['Alice', 'Bob']);
    // His last one closes: he is gone, and every other stream is told.
    await bob2.close();
    expect(names(await presence(watcher, (p) => !names(p).includes('Bob')))).toEqual(['Alice']);
    expect((await hubOf(alice).presence()).online).toEqual([{ user_id: alice.sub, name: 'Alice' }]);
    await watcher.close();
  });

  it('shows who is viewing which card, for as long as they say so', async () => {
    const alice = await makeUser({ name: 'Alice' });
    const bob = await colleague(alice, 'engineer', 'Bob');
    const vic = await colleague(alice, 'viewer', 'Vic');
    const card = await escalate(alice);
    const watcher = await stream(alice);
    await presence(watcher, () => true);
    const view = (who: TestUser, method: 'PUT' | 'DELETE', id = card.id) =>
      call(`/v1/handoffs/${id}/viewing`, who, { method });
    const put = await view(bob, 'PUT');
    expect(put.status).toBe(204);
    expect(await put.text()).toBe('');
    expect((await presence(watcher, (p) => (p.viewing[card.id]?.length ?? 0) > 0)).viewing[card.id]).toEqual([
      { user_id: bob.sub, name: 'Bob' },
    ]);
    // Regression: "viewing has no role check". A viewer reads (DESIGN.md): saying "I am looking"
    // to the team is for engineers and admins, so a viewer is 403 and is never listed.
    await expectError(await view(vic, 'PUT'), 403, 'forbidden');
    await expectError(await view(vic, 'DELETE'), 403, 'forbidden');
    const carol = await colleague(alice, 'admin', 'Carol');
    // A renewal changes nothing.
    expect((await view(carol, 'PUT')).status).toBe(204);
    expect((await view(bob, 'PUT')).status).toBe(204);
    expect(
      (await presence(watcher, (p) => p.viewing[card.id]?.length === 2)).viewing[card.id]?.map((u) => u.name),
    ).toEqual(['Bob', 'Carol']);
    expect((await view(bob, 'DELETE')).status).toBe(204);
    expect((await view(carol, 'DELETE')).status).toBe(204);
    expect((await presence(watcher, (p) => p.viewing[card.id] === undefined)).viewing).toEqual({});
    // Another account's card, or none at all, is not found; a malformed id is a 400.
    await expectError(await view(await makeUser(), 'PUT'), 404, 'not_found');
    await expectError(await view(bob, 'PUT', crypto.randomUUID()), 404, 'not_found');
    await expectError(await view(bob, 'PUT', 'nope'), 400);
    await watcher.close();
  });

  it('never logs or replays a presence frame', async () => {
    const alice = await makeUser({ name: 'Alice' });
    const bob = await colleague(alice, 'engineer', 'Bob');
    const card = await escalate(alice);
    const bobStream = await stream(bob);
    await call(`/v1/handoffs/${card.id}/viewing`, bob, { method: 'PUT' });
    const watcher = await stream(alice);
    await presence(watcher, (p) => names(p).length === 2 && p.viewing[card.id] !== undefined);
    await watcher.close();
    await bobStream.close();
    expect((await loggedEvents(alice)).map((e) => e.type)).not.toContain('presence');
    // A stream resuming from the start replays the log's events, and gets presence only as of now.
    const replay = await openStream(alice, 0, undefined, { ephemeral: true });
    const frames = await replay.events(20, 1_500);
    await replay.close();
    expect(frames.filter((f) => f.event === 'escalation.created')).toHaveLength(1);
    const presenceFrames = frames.filter((f) => f.event === 'presence');
    expect(presenceFrames.every((f) => f.id === undefined)).toBe(true);
    expect(frames.filter((f) => f.event !== 'presence').every((f) => typeof f.id === 'number')).toBe(true);
  });
});
