import { REPLAY_MORE, REPLAY_MORE_REQUEST } from '../hub/replay-protocol';
import { log } from '../lib/log';
import { SSE_KEEPALIVE, sseRetry } from '../lib/sse-frame';

export interface SseOptions {
  retryMs: number;
  keepaliveMs: number;
  /** Bytes queued for a client that is not reading; past this the stream is closed. */
  bufferBytes: number;
  /** Frames sent after `retry:` and before anything from the source. */
  preamble?: string[];
  /** Close the stream once a frame of one of these event types has been written. */
  closeAfter?: readonly string[];
}

/** What the adapter reads from: the hub's WebSocket, or any source of whole SSE frames. */
export interface FrameSource {
  /**
   * Whole frames, as text or as the UTF-8 bytes the hub sent; `more` is true when a replay page
   * ended and the source has more to send.
   */
  onFrames(listener: (frames: string | Uint8Array, more: boolean) => void): void;
  onEnd(listener: () => void): void;
  /** Asks for the next replay page. */
  requestMore(): void;
  close(): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const MORE = encoder.encode(REPLAY_MORE);

/** Whether `bytes` ends with the replay marker. */
function endsWithMore(bytes: Uint8Array): boolean {
  if (bytes.byteLength < MORE.byteLength) return false;
  const offset = bytes.byteLength - MORE.byteLength;
  for (let i = 0; i < MORE.byteLength; i++) if (bytes[offset + i] !== MORE[i]) return false;
  return true;
}

export function webSocketSource(ws: WebSocket): FrameSource {
  // Blobs (the default under recent compatibility dates) would cost a copy and a promise each.
  ws.binaryType = 'arraybuffer';
  return {
    // The hub sends each batch as bytes, encoded once for all its sockets: they go to the client
    // as they are, never decoded here.
    onFrames: (listener) =>
      ws.addEventListener('message', (ev) => {
        const data = ev.data;
        if (typeof data === 'string') {
          const more = data.endsWith(REPLAY_MORE);
          listener(more ? data.slice(0, -REPLAY_MORE.length) : data, more);
          return;
        }
        const bytes = new Uint8Array(data as ArrayBuffer);
        const more = endsWithMore(bytes);
        listener(more ? bytes.subarray(0, bytes.byteLength - MORE.byteLength) : bytes, more);
      }),
    requestMore: () => {
      try {
        ws.send(REPLAY_MORE_REQUEST);
      } catch {
        // closed meanwhile; the close listener ends the stream
      }
    },
    onEnd: (listener) => {
      ws.addEventListener('close', listener);
      ws.addEventListener('error', listener);
    },
    close: () => {
      try {
        ws.close(1000, 'client gone');
      } catch {
        // already closed
      }
    },
  };
}

const KEEPALIVE = encoder.encode(SSE_KEEPALIVE);

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * The Worker side of a stream: holds the client's SSE response while the hub sleeps, writes
 * `retry:` first and a keepalive comment every `keepaliveMs`, and bounds what a slow client may
 * have queued. Frames from the source are whole, so closing after any write closes after the
 * last whole frame; the client then resumes by Last-Event-ID. A replay is paced: the next page is
 * asked for only once the client's queue is at most half full. A client that goes away closes
 * the source, which releases the hub's socket.
 *
 * A frame that arrives while the client is waiting for one is handed to it at once (no copy, no
 * queue); only what arrives while the client is not reading is queued, and that is what the bound
 * counts.
 */
export function sseResponse(source: FrameSource, opts: SseOptions): Response {
  // Our own queue, drained only when the client reads (the stream's high-water mark is 0, so
  // `pull` runs exactly when a read is waiting): `queued` is what the client has not taken yet.
  const queue: Uint8Array[] = [sseRetry(opts.retryMs), ...(opts.preamble ?? [])].map((t) =>
    encoder.encode(t),
  );
  let queued = queue.reduce((a, c) => a + c.byteLength, 0);
  let timer: ReturnType<typeof setInterval> | undefined;
  let ending = false; // no more writes; deliver what is queued, then close
  let released = false;
  let wantsMore = false;
  /** Set while a read is waiting and nothing is queued: resolves the pending `pull`. */
  let waiting: { controller: ReadableStreamDefaultController<Uint8Array>; wake: () => void } | undefined;

  const release = (why: string) => {
    if (released) return;
    released = true;
    if (timer !== undefined) clearInterval(timer);
    source.close();
    log('debug', 'sse stream closed', { why });
  };
  const end = (why: string) => {
    ending = true;
    release(why);
    if (waiting) {
      const { controller, wake } = waiting;
      waiting = undefined;
      try {
        controller.close();
      } catch {
        // The client cancelled while a read was pending: the stream is closed already.
      }
      wake();
    }
  };
  const askIfRoom = () => {
    if (wantsMore && !ending && queued <= opts.bufferBytes / 2) {
      wantsMore = false;
      source.requestMore();
    }
  };
  const write = (bytes: Uint8Array) => {
    if (ending || bytes.byteLength === 0) return;
    if (waiting) {
      const { controller, wake } = waiting;
      waiting = undefined;
      try {
        controller.enqueue(bytes);
      } catch {
        // Cancelled meanwhile; `cancel` ends the stream.
      }
      wake();
      return;
    }
    queue.push(bytes);
    queued += bytes.byteLength;
    if (queued > opts.bufferBytes) end('slow consumer: buffer bound reached');
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      start() {
        source.onFrames((frames, more) => {
          const bytes = typeof frames === 'string' ? encoder.encode(frames) : frames;
          write(bytes);
          if (more) {
            wantsMore = true;
            askIfRoom();
          }
          if (opts.closeAfter?.length) {
            // Run streams only (a few subscribers): the one place a frame is read here.
            const text = typeof frames === 'string' ? frames : decoder.decode(frames);
            if (
              opts.closeAfter.some(
                (t) => text.includes(`\nevent: ${t}\n`) || text.startsWith(`event: ${t}\n`),
              )
            ) {
              end('terminal event sent');
            }
          }
        });
        source.onEnd(() => end('source ended'));
        timer = setInterval(() => write(KEEPALIVE), opts.keepaliveMs);
      },
      pull(controller) {
        if (queue.length > 0) {
          controller.enqueue(concat(queue, queued));
          queue.length = 0;
          queued = 0;
          askIfRoom();
          return;
        }
        if (ending) {
          controller.close();
          return;
        }
        return new Promise<void>((wake) => {
          waiting = { controller, wake };
        });
      },
      cancel() {
        end('client went away');
      },
    },
    { highWaterMark: 0 },
  );

  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    },
  });
}
