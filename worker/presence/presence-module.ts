import type { PresenceSnapshot, PresenceUser } from '../contract/events';
import { ESCALATIONS_TOPIC } from '../escalations/topic';
import type { Hub, HubModule, SubscriberInfo } from '../hub/hub-module';
import { sseFrame } from '../lib/sse-frame';

// Presence (DESIGN.md "When nobody picks up"): who has an escalation stream open, and who is
// looking at which card. It lives in the hub's memory only and costs no storage write: `online`
// is read off the subscriber sockets (whose attachments survive hibernation, so it is rebuilt on
// wake); `viewing` is renewed by the site every 15 s, so what a restart forgets comes back within
// one renewal. Changes go out as ephemeral `presence` frames (no id, never logged or replayed),
// at most one a second per account; a new subscriber gets the current presence when it opens.

/** How long one `PUT …/viewing` counts. */
export const VIEWING_MS = 30_000;
/** At most one presence frame per this long, per account. */
export const PRESENCE_FRAME_INTERVAL_MS = 1_000;

export interface PresenceClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

const realClock: PresenceClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
};

export interface PresenceModule extends HubModule {
  /** `user` is looking at the card (for VIEWING_MS), or stopped. */
  setViewing(handoffId: string, user: PresenceUser, viewing: boolean): void;
  snapshot(): PresenceSnapshot;
}

const byName = (a: PresenceUser, b: PresenceUser) =>
  a.name.localeCompare(b.name) || a.user_id.localeCompare(b.user_id);

export function presenceModule(hub: Hub, clock: PresenceClock = realClock): PresenceModule {
  /** Users with an open escalation stream, and how many they have open. */
  const online = new Map<string, { name: string; streams: number }>();
  /** Card id → user id → until when they count as looking at it. */
  const viewing = new Map<string, Map<string, { name: string; until: number }>>();
  let lastFrame = '';
  let lastSentAt = Number.NEGATIVE_INFINITY;
  let frameTimer: unknown;
  let expiryTimer: unknown;

  const isStream = (sub: SubscriberInfo) => sub.topic === ESCALATIONS_TOPIC && sub.userId !== null;

  function join(sub: SubscriberInfo): void {
    const id = sub.userId as string;
    const cur = online.get(id);
    online.set(id, { name: sub.name ?? cur?.name ?? 'unknown user', streams: (cur?.streams ?? 0) + 1 });
  }

  function snapshot(): PresenceSnapshot {
    const now = clock.now();
    const view: Record<string, PresenceUser[]> = {};
    for (const [handoffId, people] of viewing) {
      const list = [...people]
        .filter(([, v]) => v.until > now)
        .map(([user_id, v]) => ({ user_id, name: v.name }))
        .sort(byName);
      if (list.length > 0) view[handoffId] = list;
    }
    return {
      online: [...online].map(([user_id, v]) => ({ user_id, name: v.name })).sort(byName),
      viewing: view,
    };
  }

  const frameOf = (p: PresenceSnapshot) => sseFrame('presence', p);

  /** Sends the current presence to every live subscriber, unless it is what they last got. */
  function flush(): void {
    frameTimer = undefined;
    const frame = frameOf(snapshot());
    if (frame === lastFrame) return;
    lastFrame = frame;
    lastSentAt = clock.now();
    hub.broadcast(ESCALATIONS_TOPIC, frame);
  }

  /** Presence changed: one frame now, or at the end of the current second if one just went. */
  function changed(): void {
    if (frameTimer !== undefined) return;
    frameTimer = clock.setTimeout(flush, Math.max(0, lastSentAt + PRESENCE_FRAME_INTERVAL_MS - clock.now()));
  }

  /** Forgets what has run out, and waits for the next to run out. */
  function expire(): void {
    expiryTimer = undefined;
    const now = clock.now();
    let removed = false;
    let next = Number.POSITIVE_INFINITY;
    for (const [handoffId, people] of viewing) {
      for (const [userId, v] of people) {
        if (v.until <= now) {
          people.delete(userId);
          removed = true;
        } else next = Math.min(next, v.until);
      }
      if (people.size === 0) viewing.delete(handoffId);
    }
    if (removed) changed();
    if (next !== Number.POSITIVE_INFINITY) expiryTimer = clock.setTimeout(expire, next - now);
  }

  return {
    name: 'presence',
    // In memory only: nothing in the hub's SQLite.
    migrations: [],
    recover() {
      online.clear();
      for (const sub of hub.subscribers(ESCALATIONS_TOPIC)) if (isStream(sub)) join(sub);
    },
    onSubscribe(sub, send) {
      if (!isStream(sub)) return;
      join(sub);
      send(frameOf(snapshot()));
      changed();
    },
    onUnsubscribe(sub) {
      if (!isStream(sub)) return;
      const id = sub.userId as string;
      const cur = online.get(id);
      if (!cur) return;
      if (cur.streams <= 1) online.delete(id);
      else online.set(id, { ...cur, streams: cur.streams - 1 });
      changed();
    },
    setViewing(handoffId, user, on) {
      let people = viewing.get(handoffId);
      if (on) {
        if (!people) {
          people = new Map();
          viewing.set(handoffId, people);
        }
        const wasThere = people.has(user.user_id);
        people.set(user.user_id, { name: user.name, until: clock.now() + VIEWING_MS });
        if (!wasThere) changed();
        if (expiryTimer === undefined) expiryTimer = clock.setTimeout(expire, VIEWING_MS);
      } else if (people?.delete(user.user_id)) {
        if (people.size === 0) viewing.delete(handoffId);
        changed();
      }
    },
    snapshot,
  };
}
