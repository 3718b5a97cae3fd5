import { DurableObject } from 'cloudflare:workers';
import { REPLAY_MORE_REQUEST } from './replay-protocol';
import { closeBack, type Member, SocketIndex } from './socket-index';

/**
 * What the account hub and its relay hubs share as holders of subscribers' hibernatable sockets:
 * the runtime's socket hooks. A subscriber leaves the index once, whether its socket's close or
 * error arrives first, or both; each hub only says what a page request and a departure mean to it.
 */
export abstract class SubscriberHost extends DurableObject<Env> {
  protected readonly subs: SocketIndex;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.subs = new SocketIndex(ctx);
  }

  /** A subscriber still replaying asks for its next page. */
  protected abstract nextPage(member: Member): void | Promise<void>;

  /** A subscriber is gone (its socket closed or failed); called once per subscriber. */
  protected abstract left(member: Member): void;

  /** The only message a subscriber sends: `more`, for the next replay page. */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (message !== REPLAY_MORE_REQUEST) return;
    const member = this.subs.of(ws);
    if (member && !member.sub.live) await this.nextPage(member);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeBack(ws, code, reason);
    this.unsubscribed(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.unsubscribed(ws);
  }

  protected unsubscribed(ws: WebSocket): void {
    const member = this.subs.of(ws);
    // Once per socket: close and error may both arrive.
    if (member && this.subs.remove(member)) this.left(member);
  }
}
