import { describe, expect, it } from 'vitest';
import type { EscalationCard } from '../../../worker/contract/events';
import { EscalationFeed, type Snapshot } from './escalation-feed';
import { card } from './test-cards';

const enc = new TextEncoder();
const frame = (id: number, type: string, c: EscalationCard) =>
  `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ card: c, version: c.version })}\n\n`;

/** One open stream per call, fed by the test. */
function streams() {
  const opened: { lastEventId: string | undefined; push: (s: string) => void; cut: () => void }[] = [];
  const fn = (async (_url: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    let ctl!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        ctl = c;
      },
    });
    (init.signal as AbortSignal).addEventListener('abort', () => ctl.error(new Error('aborted')));
    opened.push({
      lastEventId: headers['last-event-id'],
      push: (s) => ctl.enqueue(enc.encode(s)),
      cut: () => ctl.error(new Error('network cut')),
    });
    return new Response(stream);
  }) as unknown as typeof fetch;
  return { fn, opened };
}

const waitFor = async (cond: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('EscalationFeed', () => {
  it('streams from the snapshot position, survives a cut, and never loses or doubles a card', async () => {
    const a = card('a', 1, '2026-01-01T00:00:01Z');
    const snapshots: Snapshot[] = [{ items: [a], next_cursor: null, last_event_id: 10 }];
    const { fn, opened } = streams();
    const news: string[] = [];
    const feed = new EscalationFeed({
      loadSnapshot: async () => snapshots[0] as Snapshot,
      streamUrl: '/s',
      headers: () => ({}),
      fetch: fn,
      backoff: { baseMs: 2, maxMs: 10 },
      onNewCard: (c) => news.push(c.id),
    });
    void feed.start();
    await waitFor(() => opened.length === 1);
    expect(opened[0]?.lastEventId).toBe('10');
    const b = card('b', 1, '2026-01-01T00:00:02Z');
    const c = card('c', 1, '2026-01-01T00:00:03Z');
    opened[0]?.push(frame(11, 'escalation.created', b) + frame(12, 'escalation.created', a));
    await waitFor(() => feed.state.get().cards.length === 2);
    opened[0]?.cut();
    await waitFor(() => opened.length === 2);
    expect(opened[1]?.lastEventId).toBe('12');
    expect(feed.state.get().stream.state).toBe('live');
    // The replay after the cut may repeat what was already merged: no doubles.
    opened[1]?.push(
      frame(13, 'escalation.created', c) +
        frame(14, 'escalation.assessed', { ...b, version: 2, ai_status: 'done' }),
    );
    await waitFor(() => feed.state.get().cards.length === 3 && feed.state.get().cards[1]?.version === 2);
    const s = feed.state.get();
    expect(s.cards.map((x) => `${x.id}@${x.version}`)).toEqual(['c@1', 'b@2', 'a@1']);
    expect([...s.arrived].sort()).toEqual(['b', 'c']);
    expect(news).toEqual(['b', 'c']);
    feed.stop();
  });

  it('asks for a failed snapshot again with backoff, then streams from it', async () => {
    let loads = 0;
    const { fn, opened } = streams();
    const feed = new EscalationFeed({
      loadSnapshot: async () => {
        if (++loads < 4) throw new Error('The server could not be reached');
        return { items: [card('a', 1, '2026-01-01T00:00:00Z')], next_cursor: null, last_event_id: 7 };
      },
      streamUrl: '/s',
      headers: () => ({}),
      fetch: fn,
      backoff: { baseMs: 2, maxMs: 10 },
    });
    void feed.start();
    await waitFor(() => feed.state.get().error !== null);
    await waitFor(() => opened.length === 1);
    expect(loads).toBe(4);
    expect(feed.state.get()).toMatchObject({ error: null, loading: false });
    expect(feed.state.get().cards.map((c) => c.id)).toEqual(['a']);
    feed.stop();
  });

  it('on reset reloads the snapshot and keeps streaming', async () => {
    let loads = 0;
    const fresh = card('z', 4, '2026-01-02T00:00:00Z');
    const { fn, opened } = streams();
    const feed = new EscalationFeed({
      loadSnapshot: async () => {
        loads++;
        return { items: loads === 1 ? [] : [fresh], next_cursor: null, last_event_id: loads === 1 ? 999 : 3 };
      },
      streamUrl: '/s',
      headers: () => ({}),
      fetch: fn,
    });
    void feed.start();
    await waitFor(() => opened.length === 1);
    opened[0]?.push('id: 3\nevent: reset\ndata: {"reason":"unknown","last_event_id":3}\n\n');
    await waitFor(() => feed.state.get().cards.length === 1);
    expect(loads).toBe(2);
    expect(feed.state.get().cards[0]?.id).toBe('z');
    expect(opened).toHaveLength(1);
    feed.stop();
  });
});
