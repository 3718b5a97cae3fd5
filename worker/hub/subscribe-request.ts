// The WebSocket upgrade a subscriber's stream opens (built by worker/streams/hub-stream.ts): the
// account hub and its relay hubs take the same parameters, read here once.

const DEFAULT_PAGE_BYTES = 256 * 1024;
/** The largest replay page a hub sends, whatever a subscriber asks for. */
export const MAX_PAGE_BYTES = 512 * 1024;

/** A replay page's size within what a hub sends (1 KiB to MAX_PAGE_BYTES). */
export const clampPageBytes = (bytes: number) => Math.min(MAX_PAGE_BYTES, Math.max(1024, bytes));

export interface SubscribeRequest {
  topic: string;
  /** Replay what was logged after this id; undefined: start live. */
  after: number | undefined;
  pageBytes: number;
  userId: string | null;
  name: string | null;
  /** The user's open streams at most (MAX_STREAMS_PER_USER); unbounded when not sent. */
  maxPerUser: number;
}

/** The upgrade's parameters, or the answer that refuses it (426 not an upgrade, 400 malformed). */
export function parseSubscribeRequest(request: Request): SubscribeRequest | Response {
  if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
    return new Response('expected a WebSocket upgrade', { status: 426 });
  }
  const params = new URL(request.url).searchParams;
  const topic = params.get('topic');
  const after = params.get('after');
  const page = params.get('page');
  if (!topic || (after !== null && !/^\d+$/.test(after)) || (page !== null && !/^\d+$/.test(page))) {
    return new Response('topic, and numeric after and page, are required', { status: 400 });
  }
  return {
    topic,
    after: after === null ? undefined : Number(after),
    pageBytes: clampPageBytes(Number(page ?? DEFAULT_PAGE_BYTES)),
    userId: params.get('user'),
    name: params.get('name'),
    maxPerUser: Number(params.get('max_per_user') ?? Number.POSITIVE_INFINITY),
  };
}
