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
  /** Whole frames; `more` is true when a replay page ended and the source has more to send. */
  onFrames(listener: (text: string, more: boolean) => void): void;
  onEnd(listener: () => void): void;
  /** Asks for the next replay page. */
  requestMore(): void;
  close(): void;
}

export function webSocketSource(ws: WebSocket): FrameSource {
  const decoder = new TextDecoder();
  return {
    onFrames: (listener) =>
      ws.addEventListener('message', (ev) => {
        const text = typeof ev.data === 'string' ? ev.data : decoder.decode(ev.data as ArrayBuffer);
        const more = text.endsWith(REPLAY_MORE);
        listener(more ? text.slice(0, -REPLAY_MORE.length) : text, more);
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

const encoder = new TextEncoder();

/**
 * The Worker side of a stream: holds the client's SSE response while the hub sleeps, writes
 * `retry:` first and a keepalive comment every `keepaliveMs`, and bounds what a slow client may
 * have queued. Frames from the source are whole, so closing after any write closes after the
 * last whole frame; the client then resumes by Last-Event-ID. A replay is paced: the next page is
 * asked for only once the client's queue is at most half full. A client that goes away closes
 * the source, which releases the hub's socket.
 */
export function sseResponse(source: FrameSource, opts: SseOptions): Response {
  // Our own queue, drained only when the client reads (the stream's high-water mark is 0, so
  // `pull` runs exactly when a read is waiting): `queued` is what the client has not taken yet.
  const queue: string[] = [sseRetry(opts.retryMs), ...(opts.preamble ?? [])];
  let queued = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let ending = false; // no more writes; deliver what is queued, then close
  let released = false;
  let wantsMore = false;
  let waitingRead: (() => void) | undefined;

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
    waitingRead?.();
  };
  const write = (text: string) => {
    if (ending) return;
    queue.push(text);
    queued += text.length;
    if (queued > opts.bufferBytes) end('slow consumer: buffer bound reached');
    waitingRead?.();
  };
  const askIfRoom = () => {
    if (wantsMore && !ending && queued <= opts.bufferBytes / 2) {
      wantsMore = false;
      source.requestMore();
    }
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      start() {
        source.onFrames((text, more) => {
          if (text) write(text);
          if (more) {
            wantsMore = true;
            askIfRoom();
          }
          if (
            opts.closeAfter?.some((t) => text.includes(`\nevent: ${t}\n`) || text.startsWith(`event: ${t}\n`))
          ) {
            end('terminal event sent');
          }
        });
        source.onEnd(() => end('source ended'));
        timer = setInterval(() => write(SSE_KEEPALIVE), opts.keepaliveMs);
      },
      async pull(controller) {
        while (queue.length === 0 && !ending) {
          await new Promise<void>((resolve) => {
            waitingRead = resolve;
          });
          waitingRead = undefined;
        }
        if (queue.length > 0) {
          const text = queue.join('');
          queue.length = 0;
          queued = 0;
          controller.enqueue(encoder.encode(text));
          askIfRoom();
        } else {
          controller.close();
        }
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
