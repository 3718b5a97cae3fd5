import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createConnection } from 'node:net';
import { neonHttp } from './neon-http';
import { WebSocketServer } from './node-ws';

// The Neon driver speaks the Postgres protocol over a WebSocket. Neon's proxy does that in
// production; locally this bridge copies each WebSocket's bytes to a TCP connection to the
// server named in `?address=host:port`. Only loopback targets are allowed: it is not a proxy
// to the rest of the network.
const loopback = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** What went through the bridge (the benchmark reads it to count the database work per operation). */
export interface BridgeStats {
  /** One-shot statements over Neon's HTTP path (a batch counts each statement). */
  httpStatements: number;
  /** WebSocket connections, i.e. new Postgres connections. */
  wsConnections: number;
  /** Statements sent over those connections (Postgres Query and Execute messages). */
  wsStatements: number;
}

export interface PgBridge {
  port: number;
  stats: BridgeStats;
  /** host:port/path for the Worker's NEON_WS_PROXY setting (the HTTP endpoint is host:port/sql). */
  proxy: string;
  close(): Promise<void>;
}

export async function startPgBridge(port = 0): Promise<PgBridge> {
  const stats: BridgeStats = { httpStatements: 0, wsConnections: 0, wsStatements: 0 };
  const http = neonHttp((n) => {
    stats.httpStatements += n;
  });
  const server = createServer((req, res) => http.handle(req, res));
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen(port, '127.0.0.1');
  });
  wss.on('connection', (ws, req) => {
    const address = new URL(req.url ?? '/', 'http://bridge').searchParams.get('address') ?? '';
    const sep = address.lastIndexOf(':');
    const host = address.slice(0, sep);
    const targetPort = Number(address.slice(sep + 1));
    if (sep < 0 || !loopback.has(host) || !Number.isInteger(targetPort) || targetPort <= 0) {
      ws.close(1008, 'address must be a loopback host:port');
      return;
    }
    const tcp = createConnection({ host: host.replace(/^\[|\]$/g, ''), port: targetPort });
    tcp.setNoDelay(true);
    tcp.on('data', (chunk) => ws.readyState === ws.OPEN && ws.send(chunk));
    tcp.on('error', (err: NodeJS.ErrnoException) => {
      console.error(`[pg-bridge] cannot reach ${address}: ${err.code ?? err.message}`);
      ws.close(1011, 'database connection failed');
    });
    tcp.on('close', () => ws.readyState === ws.OPEN && ws.close());
    stats.wsConnections++;
    const count = statementCounter((n) => {
      stats.wsStatements += n;
    });
    ws.on('message', (data: Buffer) => {
      count(data);
      tcp.write(data);
    });
    // The Worker opens a connection per request, so a busy local stack opens thousands a
    // minute. Closing them with a reset instead of a FIN handshake leaves no TIME_WAIT behind;
    // otherwise, after about a minute of load, loopback ran out of ephemeral ports and every
    // new connection failed at once.
    const reset = () => {
      if (!tcp.destroyed) tcp.resetAndDestroy();
      if (!req.socket.destroyed) req.socket.resetAndDestroy();
    };
    ws.on('close', reset);
    ws.on('error', reset);
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    stats,
    proxy: `127.0.0.1:${actual}/v1`,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await http.close();
    },
  };
}

/**
 * Counts the statements a client sends on one Postgres connection: the frontend protocol is a
 * startup message (no type byte), then messages of a type byte and a length; a simple Query ('Q')
 * or an Execute ('E') runs one statement.
 */
function statementCounter(add: (n: number) => void): (chunk: Buffer) => void {
  let started = false;
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      if (!started) {
        if (pending.length < 4) return;
        const len = pending.readUInt32BE(0);
        if (pending.length < len) return;
        // An SSLRequest (80877103) is followed by the real startup message.
        started = !(len === 8 && pending.readUInt32BE(4) === 80877103);
        pending = pending.subarray(len);
        continue;
      }
      if (pending.length < 5) return;
      const len = pending.readUInt32BE(1);
      if (pending.length < 1 + len) return;
      const type = pending[0];
      if (type === 0x51 || type === 0x45) add(1);
      pending = pending.subarray(1 + len);
    }
  };
}
