import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../test/sse';
import { sseFrame } from '../lib/sse-frame';
import { type FrameSource, sseResponse } from './sse-response';

function fakeSource() {
  let onFrames: ((text: string, more: boolean) => void) | undefined;
  let onEnd: (() => void) | undefined;
  const state = { closed: false, requested: 0 };
  const source: FrameSource = {
    onFrames: (l) => {
      onFrames = l;
    },
    onEnd: (l) => {
      onEnd = l;
    },
    requestMore: () => {
      state.requested++;
    },
    close: () => {
      state.closed = true;
    },
  };
  return {
    source,
    state,
    emit: (t: string, more = false) => onFrames?.(t, more),
    end: () => onEnd?.(),
  };
}

async function readAll(res: Response): Promise<string> {
  return await res.text();
}

const opts = { retryMs: 1500, keepaliveMs: 60_000, bufferBytes: 2048 };

describe('sseResponse', () => {
  it('sends retry first, then the frames it is given, with SSE headers', async () => {
    const src = fakeSource();
    const res = sseResponse(src.source, { ...opts, preamble: [sseFrame('hello', { a: 1 }, 7)] });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    src.emit(sseFrame('x', { n: 1 }, 8));
    src.end();
    const text = await readAll(res);
    const frames = text.trim().split('\n\n').map(parseFrame);
    expect(frames[0]).toEqual({ retry: 1500 });
    expect(frames.slice(1)).toEqual([
      { id: 7, event: 'hello', data: { a: 1 } },
      { id: 8, event: 'x', data: { n: 1 } },
    ]);
    expect(src.state.closed).toBe(true);
  });

  it('closes a consumer that stops reading once its buffer passes the bound, after a whole frame', async () => {
    const src = fakeSource();
    const res = sseResponse(src.source, opts);
    // Nobody reads yet: the queue grows until the bound.
    const sent: number[] = [];
    for (let i = 1; i <= 100; i++) {
      src.emit(sseFrame('escalation.created', { n: i, pad: 'x'.repeat(100) }, i));
      sent.push(i);
    }
    expect(src.state.closed).toBe(true);
    const text = await readAll(res);
    expect(text.endsWith('\n\n')).toBe(true);
    const ids = text
      .trim()
      .split('\n\n')
      .map(parseFrame)
      .flatMap((f) => (f.id === undefined ? [] : [f.id]));
    // What was delivered is a gapless prefix; the client resumes after its last id.
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.length).toBeLessThan(100);
    expect(ids).toEqual(sent.slice(0, ids.length));
  });

  it('asks for the next replay page only while the client has room, and never trips the bound by paging', async () => {
    const src = fakeSource();
    const res = sseResponse(src.source, { ...opts, bufferBytes: 4096 });
    const page = (from: number) =>
      Array.from({ length: 3 }, (_, i) => sseFrame('e', { pad: 'x'.repeat(400) }, from + i)).join('');
    src.emit(page(1), true);
    expect(src.state.requested).toBe(1);
    src.emit(page(4), true);
    // Nobody reads: past half the buffer it waits instead of asking.
    expect(src.state.requested).toBe(1);
    expect(src.state.closed).toBe(false);
    const reader = res.body?.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (src.state.requested < 2) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += decoder.decode(chunk.value);
    }
    expect(src.state.requested).toBe(2);
    expect(text).not.toContain('more');
    await reader?.cancel();
  });

  it('closes after a terminal event when asked to', async () => {
    const src = fakeSource();
    const res = sseResponse(src.source, { ...opts, closeAfter: ['graph_completed'] });
    src.emit(sseFrame('node_started', { node_id: 'a' }, 1));
    src.emit(sseFrame('graph_completed', { final_state: {}, duration_ms: 1 }, 2));
    src.emit(sseFrame('node_started', { node_id: 'late' }, 3));
    const frames = (await readAll(res)).trim().split('\n\n').map(parseFrame);
    expect(frames.map((f) => f.event ?? 'retry')).toEqual(['retry', 'node_started', 'graph_completed']);
    expect(src.state.closed).toBe(true);
  });

  it('releases the source when the client cancels', async () => {
    const src = fakeSource();
    const res = sseResponse(src.source, opts);
    await res.body?.cancel();
    expect(src.state.closed).toBe(true);
  });

  it('writes keepalive comments on its timer', async () => {
    const src = fakeSource();
    const res = sseResponse(src.source, { ...opts, keepaliveMs: 20 });
    const reader = res.body?.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes(': keepalive')) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += decoder.decode(chunk.value);
    }
    expect(text).toContain(': keepalive\n\n');
    await reader?.cancel();
  });
});
