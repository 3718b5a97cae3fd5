import { describe, expect, it } from 'vitest';
import { readBodyUpTo } from './bounded-body';

const streamOf = (chunks: string[], onCancel?: () => void) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
      if (!onCancel) c.close();
    },
    cancel() {
      onCancel?.();
    },
  });
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('readBodyUpTo', () => {
  it('reads a body within the bound whole, across chunks', async () => {
    const out = await readBodyUpTo(new Response(streamOf(['ab', 'cd', 'e'])), 5);
    expect({ text: text(out.bytes), truncated: out.truncated }).toEqual({ text: 'abcde', truncated: false });
  });

  it('stops at the bound and lets the rest go, even from a body that never ends', async () => {
    let cancelled = false;
    const out = await readBodyUpTo(
      new Response(
        streamOf(['abc', 'def', 'ghi'], () => {
          cancelled = true;
        }),
      ),
      4,
    );
    expect({ text: text(out.bytes), truncated: out.truncated }).toEqual({ text: 'abcd', truncated: true });
    expect(cancelled).toBe(true);
  });

  it('answers an empty body as empty', async () => {
    expect(await readBodyUpTo(new Response(null), 10)).toEqual({ bytes: new Uint8Array(), truncated: false });
  });
});
