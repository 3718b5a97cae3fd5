import { describe, expect, it } from 'vitest';
import { FanoutQueue, frameId, type Member, sendToLive } from './socket-index';

const decoder = new TextDecoder();

/** A member whose socket records what it was sent, decoded. */
function member(sid: string, opts: { live?: boolean; cursor?: number } = {}) {
  const got: string[] = [];
  const ws = {
    send: (data: string | Uint8Array) => got.push(typeof data === 'string' ? data : decoder.decode(data)),
    close: () => {},
  } as unknown as WebSocket;
  const m: Member = {
    ws,
    sub: { sid, topic: 't', cursor: opts.cursor ?? 0, live: opts.live ?? true, pageBytes: 1024 },
  };
  return { m, got };
}

const logged = (id: number) => ({ id, text: `id: ${id}\nevent: e\ndata: {}\n\n` });
const ephemeral = (n: number) => ({ text: `event: presence\ndata: {"n":${n}}\n\n` });
const turn = () => new Promise((r) => setTimeout(r, 0));

describe('sendToLive', () => {
  it('sends one message per batch to live members, and skips what a member already has', () => {
    const a = member('a');
    const b = member('b', { live: false });
    const c = member('c', { cursor: 2 });
    const delivered = sendToLive([a.m, b.m, c.m], [logged(2), logged(3), ephemeral(1)], (ws, data) => {
      ws.send(data);
      return true;
    });
    expect(a.got).toEqual([logged(2).text + logged(3).text + ephemeral(1).text]);
    expect(b.got).toEqual([]);
    // c went live at 2 (its replay page had frame 2): it gets 3 and the ephemeral frame only.
    expect(c.got).toEqual([logged(3).text + ephemeral(1).text]);
    expect(delivered).toBe(3 + 2);
  });
});

describe('FanoutQueue', () => {
  it('sends a slice of sockets per turn, every socket in order, nothing twice', async () => {
    const members = Array.from({ length: 150 }, (_, i) => member(`m${i}`));
    let delivered = 0;
    const q = new FanoutQueue((n) => {
      delivered += n;
    });
    q.push(
      members.map((x) => x.m),
      [logged(1)],
    );
    q.push(
      members.map((x) => x.m),
      [logged(2)],
    );
    expect(members.every((x) => x.got.length === 0)).toBe(true);
    await turn();
    expect(members.filter((x) => x.got.length > 0).length).toBe(64);
    for (let i = 0; i < 10 && q.pending; i++) await turn();
    expect(q.pending).toBe(false);
    for (const x of members) expect(x.got).toEqual([logged(1).text, logged(2).text]);
    expect(delivered).toBe(300);
  });

  it('drains everything at once before a socket is sent anything else', () => {
    const members = Array.from({ length: 100 }, (_, i) => member(`m${i}`));
    const q = new FanoutQueue(() => {});
    q.push(
      members.map((x) => x.m),
      [logged(7)],
    );
    q.drain();
    expect(q.pending).toBe(false);
    expect(members.every((x) => x.got.length === 1)).toBe(true);
  });

  it('reads whether a member is live, and its cursor, when its slice is sent', async () => {
    const late = member('late', { live: false });
    const q = new FanoutQueue(() => {});
    q.push([late.m], [logged(5), logged(6)]);
    // It went live (its replay page reached 5) before the turn that sends to it.
    late.m.sub.live = true;
    late.m.sub.cursor = 5;
    await turn();
    expect(late.got).toEqual([logged(6).text]);
  });
});

describe('frameId', () => {
  it('reads the id of a logged frame and none of an ephemeral one', () => {
    expect(frameId(logged(42).text)).toBe(42);
    expect(frameId(ephemeral(1).text)).toBeUndefined();
  });
});
