import { describe, expect, it } from 'vitest';
import { EventTooLargeError, readEventStream } from './event-stream-body';

const body = (...chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
      c.close();
    },
  });

describe('readEventStream', () => {
  it('hands over each event, across chunk boundaries, and stops at the end marker', async () => {
    const seen: string[] = [];
    const end = await readEventStream(
      body('data: {"a"', ':1}\n\ndata: x\n\n', 'data: [DONE]\n\ndata: late\n\n'),
      (d) => {
        seen.push(d);
        return d === '[DONE]' ? 'done' : undefined;
      },
    );
    expect(end).toEqual({ finished: true });
    expect(seen).toEqual(['{"a":1}', 'x', '[DONE]']);
  });

  it('says when the body ended without the marker', async () => {
    expect(await readEventStream(body('data: a\n\n'), () => undefined)).toEqual({ finished: false });
  });

  it('rejects with what onData threw, and when the body errors', async () => {
    await expect(
      readEventStream(body('data: a\n\n'), () => {
        throw new Error('bad event');
      }),
    ).rejects.toThrow('bad event');
    const broken = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('data: a\n\n'));
        c.error(new Error('connection reset'));
      },
    });
    await expect(readEventStream(broken, () => undefined)).rejects.toThrow('connection reset');
  });

  it('stops with EventTooLargeError when one event grows past the bound, and lets the body go', async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new TextEncoder().encode('x'.repeat(1024)));
      },
      start(c) {
        c.enqueue(new TextEncoder().encode('data: ok\n\ndata: '));
      },
      cancel() {
        cancelled = true;
      },
    });
    const seen: string[] = [];
    await expect(
      readEventStream(endless, (d) => void seen.push(d), undefined, 8 * 1024),
    ).rejects.toBeInstanceOf(EventTooLargeError);
    expect(seen).toEqual(['ok']);
    expect(cancelled).toBe(true);
  });
});
