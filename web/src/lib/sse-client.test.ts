import { describe, expect, it } from 'vitest';
import { EventStream, type StreamEventMessage, type StreamStatus } from './sse-client';

const enc = new TextEncoder();

/** A fetch whose responses the test scripts: each call takes the next handler. */
function scriptedFetch(
  handlers: ((req: { headers: Record<string, string>; signal: AbortSignal }) => Response)[],
) {
  const calls: Record<string, string>[] = [];
  const fn = (async (_url: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    calls.push(headers);
    const h = handlers.shift();
    if (!h) return new Promise<Response>(() => {});
    return h({ headers, signal: init.signal as AbortSignal });
  }) as unknown as typeof fetch;
  return { fn, calls };
}

/** A streaming body: chunks now, then either end or stay open (until aborted). */
function body(chunks: string[], opts: { end?: boolean; error?: boolean; signal?: AbortSignal } = {}) {
  return new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(enc.encode(c));
        // Errored a moment later, as a cut would: erroring at once would discard what was queued.
        if (opts.error) setTimeout(() => controller.error(new Error('connection reset')), 20);
        else if (opts.end) controller.close();
        opts.signal?.addEventListener('abort', () => controller.error(new Error('aborted')));
      },
    }),
    { headers: { 'content-type': 'text/event-stream' } },
  );
}

const waitFor = async (cond: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const fast = { baseMs: 2, maxMs: 20 };

describe('EventStream', () => {
  it('parses frames split anywhere, skips comments and retry, and parses JSON data', async () => {
    const text =
      'retry: 3000\n\n: keepalive\n\nid: 1\nevent: a\ndata: {"n":1}\n\nid: 2\nevent: b\ndata: {"n":2}\n\n';
    const chunks = [text.slice(0, 7), text.slice(7, 30), text.slice(30, 51), text.slice(51)];
    const { fn } = scriptedFetch([({ signal }) => body(chunks, { signal })]);
    const seen: StreamEventMessage[] = [];
    const s = new EventStream({ url: '/x', fetch: fn, onEvent: (e) => void seen.push(e), backoff: fast });
    void s.start();
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([
      { type: 'a', data: { n: 1 }, id: '1' },
      { type: 'b', data: { n: 2 }, id: '2' },
    ]);
    expect(s.lastEventId).toBe('2');
    s.stop();
  });

  it('reconnects after a cut with Last-Event-ID of the last event, and sends its headers', async () => {
    const { fn, calls } = scriptedFetch([
      () =>
        body(['id: 5\nevent: a\ndata: 1\n\nid: 6\nevent: a\ndata: 2\n\nid: 7\nevent: a\ndata: 3'], {
          error: true,
        }),
      ({ signal }) => body(['id: 7\nevent: a\ndata: 3\n\n'], { signal }),
    ]);
    const ids: string[] = [];
    const s = new EventStream({
      url: '/x',
      fetch: fn,
      lastEventId: '4',
      headers: () => ({ authorization: 'Bearer t' }),
      onEvent: (e) => void ids.push(e.id ?? ''),
      backoff: fast,
    });
    void s.start();
    await waitFor(() => ids.length === 3);
    // The half frame (id 7 without its blank line) was never delivered; the resume asks after 6.
    expect(ids).toEqual(['5', '6', '7']);
    expect(calls[0]?.['last-event-id']).toBe('4');
    expect(calls[1]?.['last-event-id']).toBe('6');
    expect(calls[1]?.authorization).toBe('Bearer t');
    s.stop();
  });

  it('reports its state: live, reconnecting with a delay, live again', async () => {
    const { fn } = scriptedFetch([
      () => body([], { end: true }),
      () => new Response('busy', { status: 503 }),
      ({ signal }) => body([': hi\n\n'], { signal }),
    ]);
    const states: StreamStatus[] = [];
    const s = new EventStream({
      url: '/x',
      fetch: fn,
      onEvent: () => undefined,
      onStatus: (st) => states.push(st),
      backoff: fast,
    });
    void s.start();
    await waitFor(() => states.filter((x) => x.state === 'live').length === 2);
    expect(states.map((x) => x.state)).toEqual(['live', 'reconnecting', 'reconnecting', 'live']);
    expect(states[1]?.retryInMs).toBeGreaterThan(0);
    expect(states[2]?.attempt).toBe(2);
    // Connected again, but not yet proved healthy (no event, not 30 s): the count stands.
    expect(states[3]?.attempt).toBe(2);
    s.stop();
    expect(s.current.state).toBe('closed');
  });

  it('stops for good on 401 and on 403', async () => {
    for (const [status, state] of [
      [401, 'unauthorized'],
      [403, 'failed'],
    ] as const) {
      const { fn, calls } = scriptedFetch([
        () => Response.json({ error: { code: 'x', message: 'nope' } }, { status }),
        () => body([]),
      ]);
      const s = new EventStream({ url: '/x', fetch: fn, onEvent: () => undefined, backoff: fast });
      await s.start();
      expect(s.current).toMatchObject({ state, error: 'nope' });
      expect(calls.length).toBe(1);
    }
  });

  it('closes after an event the handler marks as the last', async () => {
    const { fn, calls } = scriptedFetch([
      () =>
        body([
          'id: 1\nevent: node_started\ndata: {}\n\nid: 2\nevent: graph_completed\ndata: {}\n\nid: 3\nevent: extra\ndata: {}\n\n',
        ]),
    ]);
    const seen: string[] = [];
    const s = new EventStream({
      url: '/x',
      fetch: fn,
      onEvent: (e) => {
        seen.push(e.type);
        return e.type === 'graph_completed' ? 'stop' : undefined;
      },
      backoff: fast,
    });
    await s.start();
    expect(seen).toEqual(['node_started', 'graph_completed']);
    expect(s.current.state).toBe('closed');
    expect(calls.length).toBe(1);
  });

  it('treats a silent connection as broken and resumes', async () => {
    const { fn, calls } = scriptedFetch([
      ({ signal }) => body(['id: 1\nevent: a\ndata: 1\n\n'], { signal }),
      ({ signal }) => body([], { signal }),
    ]);
    const s = new EventStream({
      url: '/x',
      fetch: fn,
      onEvent: () => undefined,
      backoff: fast,
      idleTimeoutMs: 50,
    });
    void s.start();
    await waitFor(() => calls.length === 2);
    expect(calls[1]?.['last-event-id']).toBe('1');
    s.stop();
  });

  it('reconnectNow skips the wait', async () => {
    const { fn, calls } = scriptedFetch([
      () => body([], { end: true }),
      ({ signal }) => body([], { signal }),
    ]);
    const s = new EventStream({
      url: '/x',
      fetch: fn,
      onEvent: () => undefined,
      backoff: { baseMs: 60_000, maxMs: 60_000 },
    });
    void s.start();
    await waitFor(() => s.current.state === 'reconnecting');
    s.reconnectNow();
    await waitFor(() => calls.length === 2);
    s.stop();
  });

  describe('backoff', () => {
    const slow = { baseMs: 10, maxMs: 1_000 };
    /** A 200 that ends at once, as a broken proxy or an overloaded server might answer. */
    const closesAtOnce = () => body(['retry: 3000\n\n: keepalive\n\n'], { end: true });
    const event = (id: number) => body([`id: ${id}\nevent: a\ndata: {}\n\n`], { end: true });

    /** A stream over `handlers`, with every status it reported and the delays it waited. */
    function run(handlers: Parameters<typeof scriptedFetch>[0], extra: { healthyAfterMs?: number } = {}) {
      const { fn, calls } = scriptedFetch(handlers);
      const states: StreamStatus[] = [];
      const delays: number[] = [];
      const s = new EventStream({
        url: '/x',
        fetch: fn,
        onEvent: () => undefined,
        onStatus: (st) => {
          states.push(st);
          if (st.state === 'reconnecting') delays.push(st.retryInMs ?? -1);
        },
        backoff: slow,
        random: () => 1,
        ...extra,
      });
      void s.start();
      return { s, calls, states, delays };
    }

    it('keeps backing off against a server that answers 200 and closes at once', async () => {
      const { s, delays } = run(Array.from({ length: 6 }, () => closesAtOnce));
      await waitFor(() => delays.length === 6);
      s.stop();
      expect(delays).toEqual([10, 20, 40, 80, 160, 320]);
    });

    it('starts again from the shortest delay once a connection delivered an event', async () => {
      const { s, delays } = run([closesAtOnce, closesAtOnce, closesAtOnce, () => event(1), closesAtOnce]);
      await waitFor(() => delays.length === 5);
      s.stop();
      expect(delays).toEqual([10, 20, 40, 10, 20]);
    });

    it('starts again from the shortest delay once a connection stayed up healthyAfterMs', async () => {
      let server: ReadableStreamDefaultController<Uint8Array> | undefined;
      const keptOpen = () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              server = controller;
              controller.enqueue(enc.encode(': keepalive\n\n'));
            },
          }),
        );
      const { s, states, delays } = run([closesAtOnce, closesAtOnce, keptOpen, closesAtOnce], {
        healthyAfterMs: 50,
      });
      // Third connection: live with the count standing, then healthy, the count reset.
      await waitFor(() => states.filter((st) => st.state === 'live').length === 4);
      expect(states.filter((st) => st.state === 'live').map((st) => st.attempt)).toEqual([0, 1, 2, 0]);
      server?.close();
      await waitFor(() => delays.length === 4);
      s.stop();
      expect(delays).toEqual([10, 20, 10, 20]);
    });

    it('waits as long as a refusal’s Retry-After asks (429 over the stream limit), within maxMs', async () => {
      const refused = (retryAfter: string) => () =>
        Response.json(
          { error: { code: 'too_many_streams', message: 'too many streams' } },
          { status: 429, headers: { 'retry-after': retryAfter } },
        );
      const { s, delays, states } = run([refused('0.3'), closesAtOnce, refused('3600'), closesAtOnce]);
      await waitFor(() => delays.length === 4, 3_000);
      s.stop();
      // 300 ms instead of the backoff's 10; then backoff (20); an hour is held to maxMs (1 s).
      expect(delays).toEqual([300, 20, 1_000, 80]);
      expect(states[0]).toMatchObject({ state: 'reconnecting', error: 'too many streams' });
    });
  });
});
