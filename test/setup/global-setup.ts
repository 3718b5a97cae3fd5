// Node-side setup for the workerd test pool: a database (embedded PGlite unless
// TEST_DATABASE_URL names a server), migrations, and the WebSocket-to-TCP bridge the Neon
// driver needs to reach it from inside workerd. Tests use a fresh account each, so the schema
// is created once per run and never dropped between tests.
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres';
import { migrateDatabase } from '../../scripts/lib/migrate';
import { startPgBridge } from '../../scripts/lib/pg-bridge';
import { startFakeOpenAi } from './fake-openai';
import { startLoopbackHttp } from './loopback-http';
import { startWebhookReceiver } from './webhook-receiver';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    wsProxy: string;
    openaiUrl: string;
    httpUrl: string;
    webhookUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL;
  const embedded = external ? undefined : await startEmbeddedPostgres();
  const databaseUrl = external ?? embedded?.url ?? '';
  await migrateDatabase(databaseUrl);
  const bridge = await startPgBridge();
  project.provide('databaseUrl', databaseUrl);
  project.provide('wsProxy', bridge.proxy);
  const openai = await startFakeOpenAi();
  project.provide('openaiUrl', openai.url);
  const http = await startLoopbackHttp();
  project.provide('httpUrl', http.url);
  const receiver = await startWebhookReceiver();
  project.provide('webhookUrl', receiver.url);
  return async () => {
    await receiver.close();
    await http.close();
    await openai.close();
    await bridge.close();
    await embedded?.stop();
  };
}
