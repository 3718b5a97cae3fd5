import { log } from '../lib/log';
import { SSE_KEEPALIVE, sseRetry } from './sse-frame';

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
  onFrames(listener: (text: string) => void): void;
  onEnd(listener: () => void): void;
  close(): void;
}

export function webSocketSource(ws: WebSocket): FrameSource {
  const decoder = new TextDecoder();
  return {
    onFrames: (listener) =>
      ws.addEventListener('message', (ev) =>
        listener(typeof ev.data === 'string' ? ev.data : decoder.decode(ev.data as ArrayBuffer)),
      ),
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
 * last whole frame; the client then resumes by Last-Event-ID. A client that goes away closes the
 * source, which releases the hub's socket.
 */
export function sseResponse(source: FrameSource, opts: SseOptions): Response {
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;

  const finish = (why: string) => {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearInterval(timer);
    source.close();
    try {
      controllerRef?.close();
    } catch {
      // already closed or cancelled
    }
    log('debug', 'sse stream closed', { why });
  };

  const write = (text: string) => {
    const c = controllerRef;
    if (closed || !c) return;
    c.enqueue(encoder.encode(text));
    if ((c.desiredSize ?? 0) <= 0) finish('slow consumer: buffer bound reached');
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = controller;
        controller.enqueue(encoder.encode(sseRetry(opts.retryMs)));
        for (const frame of opts.preamble ?? []) controller.enqueue(encoder.encode(frame));
        source.onFrames((text) => {
          write(text);
          if (
            opts.closeAfter?.some((t) => text.includes(`\nevent: ${t}\n`) || text.startsWith(`event: ${t}\n`))
          ) {
            finish('terminal event sent');
          }
        });
        source.onEnd(() => finish('source ended'));
        timer = setInterval(() => write(SSE_KEEPALIVE), opts.keepaliveMs);
      },
      cancel() {
        finish('client went away');
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: opts.bufferBytes }),
  );

  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    },
  });
}
