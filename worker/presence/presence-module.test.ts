import { describe, expect, it } from 'vitest';
import type { PresenceSnapshot } from '../contract/events';
import type { Hub, SubscriberInfo } from '../hub/hub-module';
import { type PresenceClock, presenceModule, VIEWING_MS } from './presence-module';

/** A clock the test moves, running the timers that fall due. */
function fakeClock() {
  let now = 1_000_000;
  const timers: { at: number; fn: () => void }[] = [];
  const clock: PresenceClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.push({ at: now + ms, fn });
      return timers.length;
    },
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (!next || next.at > end) break;
      timers.shift();
      now = next.at;
      next.fn();
    }
    now = end;
  };
  return { clock, advance };
}

/** A host that records what the module broadcasts, with these sockets already open. */
function fakeHub(open: SubscriberInfo[] = []) {
  const sent: PresenceSnapshot[] = [];
  const hub = {
    subscribers: () => open,
    broadcast: (_topic: string, frame: string) => {
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      sent.push(JSON.parse(data ?? 'null') as PresenceSnapshot);
    },
  } as unknown as Hub;
  return { hub, sent };
}

const sub = (userId: string, name: string, topic = 'escalations'): SubscriberInfo => ({
  topic,
  userId,
  name,
});
const names = (p: PresenceSnapshot | undefined) => p?.online.map((u) => u.name);

describe('the presence hub module', () => {
  it('sends at most one frame a second, with the presence as it is when it goes', () => {
    const { clock, advance } = fakeClock();
    const { hub, sent } = fakeHub();
    const presence = presenceModule(hub, clock);
    const opened: string[] = [];
    presence.onSubscribe?.(sub('a', 'Alice'), (f) => opened.push(f));
    expect(opened[0]).toMatch(
      /^event: presence\ndata: \{"online":\[\{"user_id":"a","name":"Alice"\}\],"viewing":\{\}\}\n\n$/,
    );
    advance(0);
    expect(sent.map(names)).toEqual([['Alice']]);
    // Three changes within the next second: one frame, at the end of it, with all three.
    presence.onSubscribe?.(sub('b', 'Bob'), () => {});
    presence.onSubscribe?.(sub('c', 'Carol'), () => {});
    presence.setViewing('h1', { user_id: 'b', name: 'Bob' }, true);
    advance(999);
    expect(sent).toHaveLength(1);
    advance(1);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual({
      online: [
        { user_id: 'a', name: 'Alice' },
        { user_id: 'b', name: 'Bob' },
        { user_id: 'c', name: 'Carol' },
      ],
      viewing: { h1: [{ user_id: 'b', name: 'Bob' }] },
    });
    // Nothing new, nothing sent; other topics and anonymous sockets are not presence.
    presence.setViewing('h1', { user_id: 'b', name: 'Bob' }, true);
    presence.onSubscribe?.(sub('d', 'Dan', 'run:r1'), () => {});
    presence.onSubscribe?.({ topic: 'escalations', userId: null, name: null }, () => {});
    advance(5_000);
    expect(sent).toHaveLength(2);
  });

  it('counts each user’s streams: only the last one closing takes them offline', () => {
    const { clock, advance } = fakeClock();
    const { hub, sent } = fakeHub();
    const presence = presenceModule(hub, clock);
    presence.onSubscribe?.(sub('a', 'Alice'), () => {});
    presence.onSubscribe?.(sub('b', 'Bob'), () => {});
    presence.onSubscribe?.(sub('b', 'Bob'), () => {});
    advance(0);
    presence.onUnsubscribe?.(sub('b', 'Bob'));
    advance(2_000);
    expect(names(presence.snapshot())).toEqual(['Alice', 'Bob']);
    expect(sent).toHaveLength(1);
    presence.onUnsubscribe?.(sub('b', 'Bob'));
    advance(2_000);
    expect(names(sent.at(-1))).toEqual(['Alice']);
    // A close the module never saw open (after a wake) changes nothing.
    presence.onUnsubscribe?.(sub('z', 'Zed'));
    expect(names(presence.snapshot())).toEqual(['Alice']);
  });

  it('forgets a viewer 30 s after their last renewal, and at once on DELETE', () => {
    const { clock, advance } = fakeClock();
    const { hub, sent } = fakeHub();
    const presence = presenceModule(hub, clock);
    const bob = { user_id: 'b', name: 'Bob' };
    presence.setViewing('h1', bob, true);
    advance(15_000);
    presence.setViewing('h1', bob, true); // the site renews every 15 s
    advance(VIEWING_MS - 1);
    expect(presence.snapshot().viewing).toEqual({ h1: [bob] });
    advance(1);
    expect(presence.snapshot().viewing).toEqual({});
    expect(sent.at(-1)?.viewing).toEqual({});
    presence.setViewing('h2', bob, true);
    advance(1_000);
    expect(sent.at(-1)?.viewing).toEqual({ h2: [bob] });
    presence.setViewing('h2', bob, false);
    advance(1_000);
    expect(sent.at(-1)?.viewing).toEqual({});
    // Stopping what was never started sends nothing.
    const count = sent.length;
    presence.setViewing('h3', bob, false);
    advance(5_000);
    expect(sent).toHaveLength(count);
  });

  it('rebuilds who is online from the open sockets after a wake', () => {
    const { clock } = fakeClock();
    const { hub } = fakeHub([sub('a', 'Alice'), sub('b', 'Bob'), sub('b', 'Bob'), sub('r', 'Run', 'run:1')]);
    const presence = presenceModule(hub, clock);
    presence.recover?.();
    expect(names(presence.snapshot())).toEqual(['Alice', 'Bob']);
    presence.onUnsubscribe?.(sub('b', 'Bob'));
    expect(names(presence.snapshot())).toEqual(['Alice', 'Bob']);
    presence.onUnsubscribe?.(sub('b', 'Bob'));
    expect(names(presence.snapshot())).toEqual(['Alice']);
  });
});
