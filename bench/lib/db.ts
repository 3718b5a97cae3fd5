// The same driver the Worker uses (@neondatabase/serverless over the harness's bridge), from Node.
import { neonConfig, Pool } from '@neondatabase/serverless';
import { WebSocket } from '../../scripts/lib/node-ws';

export function configureNeon(wsProxy: string): void {
  neonConfig.webSocketConstructor = WebSocket as unknown as typeof neonConfig.webSocketConstructor;
  neonConfig.wsProxy = (host, port) => `${wsProxy}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

export function pool(databaseUrl: string, max = 4): Pool {
  const p = new Pool({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000, max });
  p.on('error', () => {});
  return p;
}
