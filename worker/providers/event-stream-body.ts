import { createParser, type ParseError } from 'eventsource-parser';

/** What `readEventStream` learned: whether the stream's own end marker came before the body ended. */
export interface EventStreamEnd {
  finished: boolean;
}

/** One event (or a line of one) grew past the bound before it ended: the stream was let go. */
export class EventTooLargeError extends Error {
  constructor(readonly maxChars: number) {
    super(`a stream event passed ${maxChars} characters`);
  }
}

/**
 * Reads a `text/event-stream` body (an LLM provider's streamed answer) with `eventsource-parser`,
 * handing each event's `data` to `onData` as it arrives. `onData` returns `'done'` at the
 * stream's end marker (OpenAI's `data: [DONE]`); reading then stops and the body is released.
 * A body that ends without the marker says so (`finished: false`), so the caller can tell a
 * dropped stream from a finished one. A read that fails (the connection broke, the signal
 * aborted the fetch) rejects with the reader's error. When `signal` aborts, the body is
 * cancelled, which ends the upstream stream (a source that only a cancel stops).
 * The parser holds an unfinished event in memory: past `maxEventChars` (a server that never ends
 * a line) reading stops with `EventTooLargeError`. What `onData` keeps is the caller's to bound.
 */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onData: (data: string) => 'done' | undefined,
  signal?: AbortSignal,
  maxEventChars?: number,
): Promise<EventStreamEnd> {
  let finished = false;
  let failure: unknown;
  const parser = createParser({
    onEvent: (event) => {
      if (finished || failure !== undefined) return;
      try {
        if (onData(event.data) === 'done') finished = true;
      } catch (err) {
        failure = err;
      }
    },
    onError: (err: ParseError) => {
      if (err.type === 'max-buffer-size-exceeded' && failure === undefined && maxEventChars !== undefined)
        failure = new EventTooLargeError(maxEventChars);
    },
    ...(maxEventChars === undefined ? {} : { maxBufferSize: maxEventChars }),
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const abort = () => {
    reader.cancel(signal?.reason).catch(() => undefined);
  };
  signal?.addEventListener('abort', abort, { once: true });
  try {
    if (signal?.aborted) throw signal.reason;
    while (!finished && failure === undefined) {
      const { done, value } = await reader.read();
      if (done) {
        parser.feed(decoder.decode());
        // A last event without its blank line still counts.
        parser.reset({ consume: true });
        break;
      }
      parser.feed(decoder.decode(value, { stream: true }));
      if (signal?.aborted) throw signal.reason;
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    reader.cancel().catch(() => undefined);
  }
  if (failure !== undefined) throw failure;
  return { finished };
}
