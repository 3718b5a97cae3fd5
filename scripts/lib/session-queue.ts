import type { PGlite } from '@electric-sql/pglite';

type Item =
  | {
      kind: 'message';
      handlerId: number;
      message: Uint8Array;
      onData: (data: Uint8Array) => void;
      resolve: (bytes: number) => void;
      reject: (err: unknown) => void;
    }
  | { kind: 'abandon'; handlerId: number };

const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I'
const TERMINATE = 0x58; // 'X'
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

function simpleQuery(text: string): Uint8Array {
  const body = new TextEncoder().encode(`${text}\0`);
  const out = new Uint8Array(5 + body.length);
  out[0] = 0x51; // 'Q'
  new DataView(out.buffer).setInt32(1, 4 + body.length);
  out.set(body, 5);
  return out;
}

/**
 * Serialises many wire-protocol connections onto PGlite's single backend, one *session turn*
 * at a time: once a connection sends a message it keeps the backend until Postgres answers
 * ReadyForQuery with status idle. pglite-socket's own queue only keeps affinity inside explicit
 * transactions, so two clients' extended-protocol messages (Parse, Bind, Execute, Sync) could
 * interleave on the shared unnamed statement: "bind message supplies 6 parameters, but prepared
 * statement "" requires 1".
 *
 * A connection that leaves mid-turn (its client timed out, say) is cleaned up inside the queue:
 * a Sync ends any half-sent extended query and an open transaction is rolled back, so the next
 * connection finds the backend as a new session would. Without the Sync, the backend stayed in
 * the middle of the abandoned query and refused every later connection.
 *
 * It has the shape pglite-socket's PGLiteSocketHandler expects of its `queryQueue`.
 */
export class SessionQueue {
  private owner: number | null = null;
  private readonly items: Item[] = [];
  private running = false;

  /**
   * @param onTerminate closes the connection of a client that sent Terminate, as a server must:
   *   the client waits for that close, and otherwise every pool that ends leaks a connection.
   */
  constructor(
    private readonly db: PGlite,
    private readonly onTerminate: (handlerId: number) => void = () => {},
  ) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.items.push({ kind: 'message', handlerId, message, onData, resolve, reject });
      void this.pump();
    });
  }

  getQueueLength(): number {
    return this.items.length;
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.items.length - 1; i >= 0; i--) {
      const item = this.items[i];
      if (item?.kind === 'message' && item.handlerId === handlerId) {
        this.items.splice(i, 1);
        item.reject(new Error('connection closed'));
      }
    }
  }

  /** Called when a connection closes: if it holds the backend, its turn is cleaned up and ended. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    this.items.push({ kind: 'abandon', handlerId });
    void this.pump();
  }

  private next(): Item | undefined {
    const idx = this.owner === null ? 0 : this.items.findIndex((i) => i.handlerId === this.owner);
    if (idx === -1) return undefined;
    return this.items.splice(idx, 1)[0];
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let item = this.next(); item; item = this.next()) {
        if (item.kind === 'abandon') {
          if (this.owner === item.handlerId) await this.endTurn();
          continue;
        }
        if (item.message[0] === TERMINATE && item.message.length === 5) {
          // The client is leaving; the shared backend itself must never be terminated.
          if (this.owner === item.handlerId) await this.endTurn();
          item.resolve(0);
          this.onTerminate(item.handlerId);
          continue;
        }
        await this.run(item);
      }
    } finally {
      this.running = false;
    }
  }

  private async run(item: Extract<Item, { kind: 'message' }>): Promise<void> {
    let bytes = 0;
    let status: number | undefined;
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(item.message, {
          onRawData: (data) => {
            bytes += data.length;
            // ReadyForQuery is the last message of a turn: 'Z', int32 5, status.
            const n = data.length;
            if (n >= 6 && data[n - 6] === READY_FOR_QUERY && data[n - 5] === 0 && data[n - 2] === 5) {
              status = data[n - 1];
            }
            item.onData(data);
          },
        }),
      );
      this.owner = status === IDLE ? null : item.handlerId;
      item.resolve(bytes);
    } catch (err) {
      // SQL errors come back as protocol messages; a throw means the backend itself failed.
      console.error(`[embedded-postgres] backend error: ${(err as Error).stack ?? String(err)}`);
      this.owner = item.handlerId;
      await this.endTurn();
      item.reject(err);
    }
  }

  /** Leaves the backend as a fresh session would find it: no half-sent query, no transaction. */
  private async endTurn(): Promise<void> {
    try {
      await this.db.runExclusive(async () => {
        await this.db.execProtocolRawStream(SYNC, { onRawData: () => {} });
        if (this.db.isInTransaction())
          await this.db.execProtocolRawStream(simpleQuery('ROLLBACK'), { onRawData: () => {} });
      });
    } finally {
      this.owner = null;
    }
  }
}
