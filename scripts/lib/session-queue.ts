import type { PGlite } from '@electric-sql/pglite';

interface Pending {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
}

const READY_FOR_QUERY = 0x5a; // 'Z'
const TERMINATE = 0x58; // 'X'
const IDLE = 0x49; // 'I'

/**
 * Serialises many wire-protocol connections onto PGlite's single backend, one *session turn*
 * at a time: once a connection sends a message it keeps the backend until Postgres answers
 * ReadyForQuery with status idle. pglite-socket's own queue only keeps affinity inside explicit
 * transactions, so two clients' extended-protocol messages (Parse, Bind, Execute, Sync) could
 * interleave on the shared unnamed statement: "bind message supplies 6 parameters, but prepared
 * statement "" requires 1". This queue never lets that happen.
 *
 * It has the shape pglite-socket's PGLiteSocketHandler expects of its `queryQueue`.
 */
export class SessionQueue {
  private owner: number | null = null;
  private readonly waiting: Pending[] = [];
  private running = false;
  /** Connections that closed while one of their messages was executing. */
  private readonly gone = new Set<number>();

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ handlerId, message, onData, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const idx = this.owner === null ? 0 : this.waiting.findIndex((w) => w.handlerId === this.owner);
        if (idx === -1 || this.waiting.length === 0) return;
        const [item] = this.waiting.splice(idx, 1);
        if (!item) return;
        if (item.message[0] === TERMINATE && item.message.length === 5) {
          // The client is leaving. The shared backend must not be terminated, and the turn
          // must end here: its socket may already be closed, so no later cleanup would free it.
          await this.release(item.handlerId);
          item.resolve(0);
          continue;
        }
        let bytes = 0;
        let status: number | undefined;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data) => {
                bytes += data.length;
                // ReadyForQuery is the last message of a turn: 'Z', int32 5, status.
                const n = data.length;
                if (n >= 6 && data[n - 6] === READY_FOR_QUERY && data[n - 2] === 5 && data[n - 5] === 0) {
                  status = data[n - 1];
                }
                item.onData(data);
              },
            }),
          );
          this.owner = status === IDLE ? null : item.handlerId;
          if (this.gone.delete(item.handlerId)) await this.release(item.handlerId);
          item.resolve(bytes);
        } catch (err) {
          this.owner = null;
          item.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  getQueueLength(): number {
    return this.waiting.length;
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const w = this.waiting[i];
      if (w?.handlerId === handlerId) {
        this.waiting.splice(i, 1);
        w.reject(new Error('connection closed'));
      }
    }
  }

  /** A client that leaves mid-turn must not hold the backend (or an open transaction) for ever. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.running && this.owner !== handlerId) this.gone.add(handlerId);
    await this.release(handlerId);
    void this.pump();
  }

  private async release(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.owner = null;
  }
}
