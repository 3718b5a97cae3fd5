import type { Context } from 'hono';
import { hubFor, relayFor } from '../hub/hub-client';
import { RELAY_HEADER } from '../hub/relay-protocol';
import type { AppEnv } from '../lib/app-env';
import { hubUnavailable, tooManyRequests, validationFailed } from '../lib/errors';
import { parseLastEventId } from '../lib/sse-frame';
import { sseResponse, webSocketSource } from './sse-response';

/** A stream holds its slot until its client leaves: a hint, not a promise. */
const STREAM_RETRY_AFTER_SECONDS = 10;

/** `Last-Event-ID` header, else `?last_event_id=`; a malformed value is a 400, not a silent restart. */
export function lastEventIdOf(c: Context<AppEnv>): number | undefined {
  const raw = c.req.header('last-event-id') ?? c.req.query('last_event_id');
  const parsed = parseLastEventId(raw);
  if (parsed === 'invalid') {
    throw validationFailed('Last-Event-ID', [
      { field: 'last_event_id', message: 'must be a non-negative integer' },
    ]);
  }
  return parsed;
}

/**
 * Opens the hub's hibernatable WebSocket for `topic` and serves it to the client as SSE.
 * The hub replays what follows `after` (or sends `reset`) before going live.
 */
export async function hubStream(
  c: Context<AppEnv>,
  topic: string,
  after: number | undefined,
  extra: { preamble?: string[]; closeAfter?: readonly string[] } = {},
): Promise<Response> {
  const config = c.var.config;
  const url = new URL('https://hub/subscribe');
  url.searchParams.set('topic', topic);
  if (after !== undefined) url.searchParams.set('after', String(after));
  // Who is subscribing, as the token said: modules such as presence read it from the subscription.
  url.searchParams.set('user', c.var.identity.userId);
  url.searchParams.set('name', c.var.identity.name);
  // The hub counts the user's open streams and refuses past the limit (MAX_STREAMS_PER_USER).
  url.searchParams.set('max_per_user', String(config.MAX_STREAMS_PER_USER));
  // Replay pages of a quarter of the client's buffer: the Worker asks for the next one when
  // the queue is at most half full, so paging alone never trips the slow-consumer bound.
  url.searchParams.set('page', String(Math.floor(config.SSE_BUFFER_BYTES / 4)));
  const accountId = c.var.identity.accountId;
  const upgrade = { headers: { upgrade: 'websocket' } };
  let res = await hubFor(c.env, accountId).fetch(url, upgrade);
  if (res.status === 429) {
    throw tooManyRequests(
      'too_many_streams',
      `you have ${config.MAX_STREAMS_PER_USER} open streams, the limit (MAX_STREAMS_PER_USER); close one first`,
      STREAM_RETRY_AFTER_SECONDS,
      { limit: config.MAX_STREAMS_PER_USER },
    );
  }
  // A busy account hub names one of its relays instead of holding the socket itself.
  const relay = res.headers.get(RELAY_HEADER);
  if (relay !== null && /^\d+$/.test(relay))
    res = await relayFor(c.env, accountId, Number(relay)).fetch(url, upgrade);
  const ws = res.webSocket;
  if (!ws) throw hubUnavailable();
  ws.accept();
  return sseResponse(webSocketSource(ws), {
    retryMs: config.SSE_RETRY_MS,
    keepaliveMs: config.SSE_KEEPALIVE_MS,
    bufferBytes: config.SSE_BUFFER_BYTES,
    ...extra,
  });
}
