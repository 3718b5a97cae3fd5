// Starts the stack once for every e2e file, plus a small control endpoint through which the
// tests (in their own worker processes) cut or refuse the browser's connections.
import { createServer } from 'node:http';
import type { TestProject } from 'vitest/node';
import { startStack } from './stack';

declare module 'vitest' {
  export interface ProvidedContext {
    siteUrl: string;
    apiUrl: string;
    controlUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const stack = await startStack({ build: process.env.E2E_SKIP_BUILD !== '1' });
  const control = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://control');
    let body: unknown = { ok: true };
    if (url.pathname === '/cut') body = { cut: stack.proxy.cut() };
    else if (url.pathname === '/refuse') stack.proxy.refuse(url.searchParams.get('on') === '1');
    else if (url.pathname === '/open') body = { open: stack.proxy.open };
    else res.statusCode = 404;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', () => r()));
  const port = (control.address() as { port: number }).port;
  project.provide('siteUrl', stack.url);
  project.provide('apiUrl', stack.apiUrl);
  project.provide('controlUrl', `http://127.0.0.1:${port}`);
  console.log(`[e2e] site ${stack.url} (proxy) → Worker ${stack.apiUrl}`);
  return async () => {
    await new Promise((r) => control.close(r));
    await stack.stop();
  };
}
