// The database side of the harness stack, in its own process so PGlite's WebAssembly work never
// blocks the event loop that timestamps SSE frames. It serves embedded Postgres (unless
// DATABASE_URL names a server) and the WebSocket-to-TCP bridge the Neon driver needs, and takes
// line commands on stdin:
//   stop   embedded: stop the PGlite server (the bridge stays up); real server: stop the bridge
//   start  start it again on the same port (and the same data directory)
//   stats  what went through the bridge (statements over HTTP and WebSockets, connections)
//   quit   stop everything and exit
// Each command is answered with one JSON line on stdout.
import { createInterface } from 'node:readline';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres';
import { type PgBridge, startPgBridge } from '../../scripts/lib/pg-bridge';

const dataDir = process.env.BENCH_PG_DATA_DIR;
const external = process.env.DATABASE_URL;
let pgPort = Number(process.env.BENCH_PG_PORT ?? 0);
let bridgePort = Number(process.env.BENCH_BRIDGE_PORT ?? 0);
let embedded: EmbeddedPostgres | undefined;
let bridge: PgBridge | undefined;

const reply = (msg: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(msg)}\n`);

async function startDb() {
  if (external) return;
  embedded = await startEmbeddedPostgres({ ...(dataDir ? { dataDir } : {}), port: pgPort });
  pgPort = embedded.port;
}
async function startBridge() {
  bridge = await startPgBridge(bridgePort);
  bridgePort = bridge.port;
}

await startDb();
await startBridge();
reply({
  ready: true,
  url: external ?? embedded?.url,
  pgPort,
  bridgePort,
  proxy: `127.0.0.1:${bridgePort}/v1`,
});

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const cmd = line.trim();
  try {
    if (cmd === 'stop') {
      if (external) {
        await bridge?.close();
        bridge = undefined;
      } else {
        await embedded?.stop();
        embedded = undefined;
      }
      reply({ ok: true, cmd });
    } else if (cmd === 'start') {
      if (external) {
        if (!bridge) await startBridge();
      } else if (!embedded) await startDb();
      reply({ ok: true, cmd });
    } else if (cmd === 'stats') {
      reply({ ok: true, cmd, stats: bridge?.stats });
    } else if (cmd === 'quit') {
      break;
    } else reply({ ok: false, cmd, error: 'unknown command' });
  } catch (err) {
    reply({ ok: false, cmd, error: String(err) });
  }
}
await bridge?.close();
await embedded?.stop();
process.exit(0);
