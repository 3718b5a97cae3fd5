import type { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { SessionQueue } from './session-queue';

// Regression: pglite-socket's queue interleaved connections' extended-protocol messages on
// PGlite's single backend ("bind message supplies 6 parameters, but prepared statement \"\"
// requires 1"). These tests drive SessionQueue with a backend that records what it ran.

const READY_IDLE = new Uint8Array([0x5a, 0, 0, 0, 5, 0x49]);
const READY_IN_TX = new Uint8Array([0x5a, 0, 0, 0, 5, 0x54]);

function fakeBackend() {
  const ran: string[] = [];
  let inTx = false;
  const db = {
    runExclusive: <T>(fn: () => Promise<T>) => fn(),
    isInTransaction: () => inTx,
    execProtocolRawStream: async (message: Uint8Array, opts: { onRawData: (d: Uint8Array) => void }) => {
      const label = new TextDecoder().decode(message.subarray(5)).replace(/\0$/, '');
      if (label === 'ROLLBACK') inTx = false;
      ran.push(label);
      await Promise.resolve();
      if (label.endsWith(':BEGIN')) inTx = true;
      if (label.endsWith(':COMMIT')) inTx = false;
      // A Sync or simple Query ends the turn with ReadyForQuery.
      if (String.fromCharCode(message[0] ?? 0) === 'S' || String.fromCharCode(message[0] ?? 0) === 'Q') {
        opts.onRawData(inTx ? READY_IN_TX : READY_IDLE);
      } else {
        opts.onRawData(new Uint8Array([0x31, 0, 0, 0, 4]));
      }
    },
  };
  return { db: db as unknown as PGlite, ran };
}

const msg = (type: string, label: string) => {
  const body = new TextEncoder().encode(label);
  const out = new Uint8Array(5 + body.length);
  out[0] = type.charCodeAt(0);
  out.set(body, 5);
  return out;
};

describe('SessionQueue', () => {
  it('keeps one connection on the backend from Parse to ReadyForQuery idle', async () => {
    const { db, ran } = fakeBackend();
    const q = new SessionQueue(db);
    const noop = () => {};
    const all = [
      q.enqueue(1, msg('P', 'a:parse'), noop),
      q.enqueue(2, msg('P', 'b:parse'), noop),
      q.enqueue(1, msg('B', 'a:bind'), noop),
      q.enqueue(2, msg('B', 'b:bind'), noop),
      q.enqueue(1, msg('S', 'a:sync'), noop),
      q.enqueue(2, msg('S', 'b:sync'), noop),
    ];
    await Promise.all(all);
    expect(ran).toEqual(['a:parse', 'a:bind', 'a:sync', 'b:parse', 'b:bind', 'b:sync']);
  });

  it('keeps a transaction together across turns', async () => {
    const { db, ran } = fakeBackend();
    const q = new SessionQueue(db);
    const noop = () => {};
    await Promise.all([
      q.enqueue(1, msg('Q', 'a:BEGIN'), noop),
      q.enqueue(2, msg('Q', 'b:select'), noop),
      q.enqueue(1, msg('Q', 'a:insert'), noop),
      q.enqueue(1, msg('Q', 'a:COMMIT'), noop),
    ]);
    expect(ran).toEqual(['a:BEGIN', 'a:insert', 'a:COMMIT', 'b:select']);
  });

  it('frees the backend when its connection leaves mid-turn, rolling back an open transaction', async () => {
    const { db, ran } = fakeBackend();
    const q = new SessionQueue(db);
    const noop = () => {};
    await q.enqueue(1, msg('Q', 'a:BEGIN'), noop);
    const waiting = q.enqueue(2, msg('Q', 'b:select'), noop);
    await q.clearTransactionIfNeeded(1);
    await waiting;
    // A Sync ends any half-sent extended query, then the open transaction is rolled back.
    expect(ran).toEqual(['a:BEGIN', '', 'ROLLBACK', 'b:select']);
  });

  it('syncs the backend when a connection leaves in the middle of an extended query', async () => {
    const { db, ran } = fakeBackend();
    const q = new SessionQueue(db);
    const noop = () => {};
    await q.enqueue(1, msg('P', 'a:parse'), noop);
    await q.enqueue(1, msg('B', 'a:bind'), noop);
    const waiting = q.enqueue(2, msg('P', 'b:parse'), noop);
    await q.clearTransactionIfNeeded(1);
    await waiting;
    expect(ran).toEqual(['a:parse', 'a:bind', '', 'b:parse']);
  });

  // Regression: a swallowed Terminate left the connection open (the client waits for the server
  // to close it), so every pool that ended leaked a socket until the process ran out of files.
  it('ends the turn on Terminate without forwarding it, and closes that connection', async () => {
    const { db, ran } = fakeBackend();
    const closed: number[] = [];
    const q = new SessionQueue(db, (id) => closed.push(id));
    const noop = () => {};
    await Promise.all([
      q.enqueue(1, msg('P', 'a:parse'), noop),
      q.enqueue(2, msg('Q', 'b:select'), noop),
      q.enqueue(1, new Uint8Array([0x58, 0, 0, 0, 4]), noop),
    ]);
    expect(ran).toEqual(['a:parse', '', 'b:select']);
    expect(closed).toEqual([1]);
  });
});
