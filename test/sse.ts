// Reads SSE frame by frame, always to a bound (a count or a deadline), never to the end of an
// endless stream.

export interface Frame {
  id?: number;
  event?: string;
  data?: unknown;
  comment?: string;
  retry?: number;
}

/** Ephemeral frames a reader skips unless asked to keep them: they have tests of their own. */
const EPHEMERAL = new Set(['presence']);

export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  ended = false;

  constructor(
    readonly response: Response,
    private readonly opts: { ephemeral?: boolean } = {},
  ) {
    if (!response.body) throw new Error('response has no body');
    this.reader = response.body.getReader();
  }

  /** The next frame, or undefined if the stream ended or `timeoutMs` passed. */
  async next(timeoutMs = 5_000): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const idx = this.buffer.indexOf('\n\n');
      if (idx !== -1) {
        const raw = this.buffer.slice(0, idx);
        this.buffer = this.buffer.slice(idx + 2);
        const frame = parseFrame(raw);
        if (!this.opts.ephemeral && frame.id === undefined && frame.event && EPHEMERAL.has(frame.event))
          continue;
        return frame;
      }
      if (this.ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), left);
        }),
      ]);
      if (timer !== undefined) clearTimeout(timer);
      if (chunk === 'timeout') return undefined;
      if (chunk.done) {
        this.ended = true;
        continue;
      }
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  /** Frames until `count` events (frames with an event name) arrived or the deadline passed. */
  async events(count: number, timeoutMs = 5_000): Promise<Frame[]> {
    const out: Frame[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) {
      const f = await this.next(Math.max(1, deadline - Date.now()));
      if (!f) break;
      if (f.event) out.push(f);
    }
    return out;
  }

  /** The next event frame (skipping retry and keepalive comments). */
  async nextEvent(timeoutMs = 5_000): Promise<Frame | undefined> {
    return (await this.events(1, timeoutMs))[0];
  }

  async close(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}

export function parseFrame(raw: string): Frame {
  const frame: Frame = {};
  const data: string[] = [];
  for (const line of raw.split('\n')) {
    if (line.startsWith(':')) frame.comment = line.slice(1).trim();
    else if (line.startsWith('id: ')) frame.id = Number(line.slice(4));
    else if (line.startsWith('event: ')) frame.event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
    else if (line.startsWith('retry: ')) frame.retry = Number(line.slice(7));
  }
  if (data.length) frame.data = JSON.parse(data.join('\n'));
  return frame;
}

/** A frame's data as `T`; fails the test when the frame is missing. */
export function dataOf<T>(frame: Frame | undefined): T {
  if (!frame) throw new Error('expected a frame, got none');
  return frame.data as T;
}
