import { getOrCreate } from '../lib/get-or-create';

// The subscribers a hub holds (the account hub's own, or a relay's), kept in memory by topic so a
// broadcast walks a Map instead of asking the runtime for every socket and deserialising each
// one's attachment per event. The attachment stays the durable copy: after hibernation the index
// is rebuilt from it once, on first use.

/** What a hub remembers about a subscriber socket, as its attachment (it survives hibernation). */
export interface Subscriber {
  /** Stable id of the socket within its hub (relays name their subscribers to the account hub by it). */
  sid: string;
  topic: string;
  /** While replaying: the last id sent. Once live: the id it went live at. */
  cursor: number;
  /** Receives broadcasts; false while a paged replay is under way. */
  live: boolean;
  pageBytes: number;
  userId?: string | null;
  name?: string | null;
}

export interface Member {
  ws: WebSocket;
  sub: Subscriber;
}

/** A frame on its way out: a logged one carries its id, an ephemeral one none. */
export interface OutFrame {
  id?: number;
  text: string;
}

/** Frames of one batch are sent as one WebSocket message up to this size (the SSE adapter splits nothing). */
const MAX_MESSAGE_BYTES = 256 * 1024;

const encoder = new TextEncoder();

export class SocketIndex {
  private topics: Map<string, Map<string, Member>> | undefined;
  private total = 0;

  constructor(private readonly ctx: DurableObjectState) {}

  /** Built on first use after a wake: one attachment read per socket, then never again per event. */
  private index(): Map<string, Map<string, Member>> {
    if (this.topics) return this.topics;
    const topics = new Map<string, Map<string, Member>>();
    let total = 0;
    for (const ws of this.ctx.getWebSockets()) {
      const sub = ws.deserializeAttachment() as Subscriber | null;
      if (!sub) continue; // closed and already unsubscribed
      if (!sub.sid) {
        // Sockets accepted before subscribers had ids.
        sub.sid = crypto.randomUUID();
        ws.serializeAttachment(sub);
      }
      getOrCreate(topics, sub.topic, () => new Map<string, Member>()).set(sub.sid, { ws, sub });
      total++;
    }
    this.topics = topics;
    this.total = total;
    return topics;
  }

  add(ws: WebSocket, sub: Subscriber): Member {
    ws.serializeAttachment(sub);
    const byId = getOrCreate(this.index(), sub.topic, () => new Map<string, Member>());
    const member = { ws, sub };
    if (!byId.has(sub.sid)) this.total++;
    byId.set(sub.sid, member);
    return member;
  }

  /** Writes the member's state back to its attachment (when it goes live or its replay advances). */
  save(member: Member): void {
    member.ws.serializeAttachment(member.sub);
  }

  /** The member a socket belongs to (one attachment read, on close or message, not per event). */
  of(ws: WebSocket): Member | undefined {
    const sub = ws.deserializeAttachment() as Subscriber | null;
    if (!sub) return undefined;
    return this.index().get(sub.topic)?.get(sub.sid) ?? { ws, sub };
  }

  get(topic: string, sid: string): Member | undefined {
    return this.index().get(topic)?.get(sid);
  }

  /** Forgets a member; returns false if it was already gone (close and error may both arrive). */
  remove(member: Member): boolean {
    const byId = this.index().get(member.sub.topic);
    const known = byId?.delete(member.sub.sid) ?? false;
    if (known) this.total--;
    if (byId?.size === 0) this.index().delete(member.sub.topic);
    try {
      member.ws.serializeAttachment(null);
    } catch {
      // the socket is gone already
    }
    return known;
  }

  size(topic?: string): number {
    if (topic === undefined) {
      this.index();
      return this.total;
    }
    return this.index().get(topic)?.size ?? 0;
  }

  members(topic: string): Iterable<Member> {
    return this.index().get(topic)?.values() ?? [];
  }

  topicNames(): string[] {
    return [...this.index().keys()];
  }

  all(): Iterable<Member> {
    const topics = [...this.index().values()];
    return (function* () {
      for (const byId of topics) yield* byId.values();
    })();
  }
}

/** Frames of one message, encoded once for every socket that gets them. */
export interface EncodedChunk {
  frames: readonly OutFrame[];
  bytes: Uint8Array;
  /** The first logged id in the chunk (undefined when it holds only ephemeral frames). */
  firstId: number | undefined;
}

/** Frames (in order, one topic) as messages of at most MAX_MESSAGE_BYTES, each encoded to UTF-8 once. */
export function encodeFrames(frames: readonly OutFrame[]): EncodedChunk[] {
  return chunks(frames).map((chunk) => ({
    frames: chunk,
    bytes: encoder.encode(chunk.map((f) => f.text).join('')),
    firstId: chunk.find((f) => f.id !== undefined)?.id,
  }));
}

/**
 * Sends encoded frames to every live member: the same bytes to every socket (the Worker passes
 * them on to the client as they are); only a member that went live after some of these frames
 * were logged (its replay page already carried them) gets its own copy without those. Returns the
 * frames delivered.
 */
export function sendEncoded(
  members: Iterable<Member>,
  encoded: readonly EncodedChunk[],
  send: (ws: WebSocket, data: string | Uint8Array) => boolean,
): number {
  let delivered = 0;
  for (const chunk of encoded) {
    for (const m of members) {
      if (!m.sub.live) continue;
      if (chunk.firstId === undefined || m.sub.cursor < chunk.firstId) {
        if (send(m.ws, chunk.bytes)) delivered += chunk.frames.length;
        continue;
      }
      const mine = chunk.frames.filter((f) => f.id === undefined || f.id > m.sub.cursor);
      if (mine.length > 0 && send(m.ws, encoder.encode(mine.map((f) => f.text).join(''))))
        delivered += mine.length;
    }
  }
  return delivered;
}

/** `sendEncoded` of frames not yet encoded, all at once. */
export const sendToLive = (
  members: Iterable<Member>,
  frames: readonly OutFrame[],
  send: (ws: WebSocket, data: string | Uint8Array) => boolean,
) => sendEncoded(members, encodeFrames(frames), send);

function chunks(frames: readonly OutFrame[]): OutFrame[][] {
  const out: OutFrame[][] = [];
  let current: OutFrame[] = [];
  let bytes = 0;
  for (const f of frames) {
    if (current.length > 0 && bytes + f.text.length > MAX_MESSAGE_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(f);
    bytes += f.text.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The id of a logged SSE frame (`id: <n>` first), undefined for an ephemeral one. */
export function frameId(text: string): number | undefined {
  if (!text.startsWith('id: ')) return undefined;
  const end = text.indexOf('\n');
  const n = Number(text.slice(4, end));
  return Number.isInteger(n) ? n : undefined;
}

/**
 * Answers a subscriber's close with a close of our own (the runtime needs both ends closed); 1005
 * and 1006 are not codes one may send, so those become a normal 1000.
 */
export function closeBack(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  } catch {
    // Already closed.
  }
}

/** Sends one message, closing the socket if it cannot (the client resumes by Last-Event-ID). */
export function sendOrClose(ws: WebSocket, data: string | Uint8Array): boolean {
  try {
    ws.send(data);
    return true;
  } catch {
    try {
      ws.close(1011, 'send failed');
    } catch {
      // already closed
    }
    return false;
  }
}

/** Sockets sent to in one turn before the fan-out yields (see `FanoutQueue`). */
const SLICE = 64;

interface FanoutJob {
  members: Member[];
  encoded: EncodedChunk[];
  next: number;
}

/**
 * Broadcasts a slice of sockets at a time, yielding to the event loop between slices. A turn
 * that sent to 500 sockets would hold the thread until the last one: the runtime then handles
 * every socket's message (and, where the Worker shares the thread, every SSE write) only after
 * the last send, so the first subscriber waits as long as the last. Jobs run in order, and
 * anything else sent to a socket drains the queue first, so no socket sees frames out of order.
 * Whether a member is live, and its cursor, are read when its slice is sent.
 */
export class FanoutQueue {
  private readonly jobs: FanoutJob[] = [];
  private scheduled = false;

  constructor(private readonly delivered: (frames: number) => void) {}

  push(members: Iterable<Member>, frames: readonly OutFrame[]): void {
    if (frames.length === 0) return;
    const list = [...members];
    if (list.length === 0) return;
    this.jobs.push({ members: list, encoded: encodeFrames(frames), next: 0 });
    this.schedule();
  }

  /** Sends everything queued, now. */
  drain(): void {
    this.run(Number.POSITIVE_INFINITY);
  }

  /** Sends the next slice now (the rest follows a turn at a time). */
  kick(): void {
    this.run(SLICE);
  }

  get pending(): boolean {
    return this.jobs.length > 0;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      this.run(SLICE);
    }, 0);
  }

  private run(budget: number): void {
    let left = budget;
    while (left > 0 && this.jobs.length > 0) {
      const job = this.jobs[0] as FanoutJob;
      const end = Math.min(job.members.length, job.next + left);
      this.delivered(sendEncoded(job.members.slice(job.next, end), job.encoded, sendOrClose));
      left -= end - job.next;
      job.next = end;
      if (job.next >= job.members.length) this.jobs.shift();
    }
    if (this.jobs.length > 0) this.schedule();
  }
}
