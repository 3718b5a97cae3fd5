import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import { WebSocket } from './node-ws';
import { type PgBridge, startPgBridge } from './pg-bridge';

const localHosts = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLocalDatabase(url: string): boolean {
  return localHosts.has(new URL(url).hostname);
}

/**
 * The same driver the Worker uses, from Node: directly to Neon in production, through an
 * in-process bridge to a local server.
 */
export async function connectNode(
  databaseUrl: string,
): Promise<{ db: ReturnType<typeof drizzle>; pool: Pool; close(): Promise<void> }> {
  neonConfig.webSocketConstructor = WebSocket;
  let bridge: PgBridge | undefined;
  if (isLocalDatabase(databaseUrl)) {
    bridge = await startPgBridge();
    const proxy = bridge.proxy;
    neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
  }
  const pool = new Pool({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => {});
  return {
    db: drizzle({ client: pool }),
    pool,
    close: async () => {
      await pool.end();
      await bridge?.close();
    },
  };
}
