// npm run dev: the whole local product in one command. Embedded Postgres (unless DATABASE_URL is
// set), the WebSocket-to-TCP bridge the Neon driver needs, migrations, the demo users, the site
// build, `wrangler dev` (Worker, AccountHub hubs, static assets), and, once the Worker answers,
// the demo week when the demo account is empty (docs/demo.md). Ctrl-C stops all of it.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { SETTING_NAMES } from '../worker/config';
import { DEMO_ACCOUNT_ID, DEMO_USERS } from '../worker/dev/demo-users';
import { signToken } from '../worker/dev/sign-token';
import { ensureDevVars } from './lib/dev-vars';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './lib/embedded-postgres';
import { migrateDatabase } from './lib/migrate';
import { type PgBridge, startPgBridge } from './lib/pg-bridge';
import { describeSeed, requestDemoSeed, seedDemo } from './lib/seed';
import { waitForHealth, wranglerDevArgs } from './lib/wrangler-dev';

const root = resolve(import.meta.dirname, '..');
process.chdir(root);
const port = Number(process.env.PORT ?? 8787);
const children: ChildProcess[] = [];
let embedded: EmbeddedPostgres | undefined;
let bridge: PgBridge | undefined;
let stopping = false;

const say = (msg: string) => console.log(`[dev] ${msg}`);

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())),
    );
    await bridge?.close();
    await embedded?.stop();
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

function run(cmd: string, args: string[], opts: { wait: boolean }): Promise<void> | ChildProcess {
  const child = spawn(cmd, args, { stdio: 'inherit', env: process.env });
  children.push(child);
  if (!opts.wait) return child;
  return new Promise((ok, fail) =>
    child.once('exit', (code) =>
      code === 0 ? ok() : fail(new Error(`${cmd} ${args.join(' ')} exited ${code}`)),
    ),
  );
}

const vars = ensureDevVars();
let databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  embedded = await startEmbeddedPostgres({
    dataDir: resolve(root, '.data/pglite'),
    port: Number(process.env.PGLITE_PORT ?? 0),
  });
  databaseUrl = embedded.url;
  say(`embedded Postgres (PGlite) on 127.0.0.1:${embedded.port}, data in .data/pglite`);
} else {
  say('using DATABASE_URL');
}
bridge = await startPgBridge();
const proxy = bridge.proxy;
say(`Neon driver bridge on ${proxy}`);
try {
  await migrateDatabase(databaseUrl);
  await seedDemo(databaseUrl);
  say('migrations applied, demo users in place');
  await run('vite', ['build', '--logLevel', 'warn'], { wait: true });
  say('site built into web/dist');
} catch (err) {
  console.error(`[dev] start-up failed: ${(err as Error).message}`);
  await shutdown(1);
}
// Rebuild the site on change while the Worker serves it.
run('vite', ['build', '--watch', '--logLevel', 'warn'], { wait: false });
// Any setting set in the environment wins over .dev.vars (`WEBHOOK_ALLOW_HOSTS=127.0.0.1 npm run dev`).
const fromEnv = Object.fromEntries(
  SETTING_NAMES.flatMap((name) => {
    const value = process.env[name];
    return value === undefined || name === 'DATABASE_URL' ? [] : [[name, value]];
  }),
);
if (Object.keys(fromEnv).length > 0) say(`settings from the environment: ${Object.keys(fromEnv).join(', ')}`);
// Dev defaults, unless .dev.vars or the environment says otherwise: webhooks may reach receivers on
// this machine, and links that leave the site (Slack's button) point at this dev server.
const devDefaults = Object.fromEntries(
  Object.entries({ WEBHOOK_ALLOW_HOSTS: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}` }).filter(
    ([name]) => vars[name] === undefined,
  ),
);
// The demo's status-page graph calls this server's /dev/demo-status with http_get: allowed, next
// to whatever else the environment or .dev.vars allow.
const allowed = (fromEnv.HTTP_GET_ALLOW_HOSTS ?? vars.HTTP_GET_ALLOW_HOSTS ?? '')
  .split(',')
  .map((h) => h.trim());
const httpGetAllowHosts = [...new Set([...allowed, `127.0.0.1:${port}`])].filter(Boolean).join(',');
const wrangler = run(
  'wrangler',
  wranglerDevArgs({
    port,
    persistTo: '.data/wrangler',
    vars: {
      ...devDefaults,
      ...fromEnv,
      HTTP_GET_ALLOW_HOSTS: httpGetAllowHosts,
      DATABASE_URL: databaseUrl,
      NEON_WS_PROXY: proxy,
    },
  }),
  { wait: false },
) as ChildProcess;
wrangler.once('exit', (code) => {
  if (!stopping) {
    console.error(`[dev] wrangler exited (${code}); stopping`);
    void shutdown(code ?? 1);
  }
});

// Print the URL and a token once the Worker answers.
const url = `http://127.0.0.1:${port}`;
try {
  await waitForHealth(url, wrangler, 150_000, "wrangler's output above");
} catch (err) {
  console.error(`[dev] ${(err as Error).message}`);
  await shutdown(1);
}
// The demo week, when the demo account is empty: made inside the Worker, by the real code paths.
const devMode = fromEnv.DEV_MODE ?? vars.DEV_MODE;
if (devMode === 'true' || devMode === '1') {
  try {
    say('seeding the demo account if it is empty…');
    say(describeSeed(await requestDemoSeed(url, { ifEmpty: true })));
  } catch (err) {
    say(
      `the demo seed failed: ${(err as Error).message} (the server keeps running; \`npm run seed\` tries again)`,
    );
  }
}
const secret = vars.JWT_SECRET ?? '';
const tokens = await Promise.all(
  DEMO_USERS.map(async (u) => ({
    ...u,
    token: await signToken({ sub: u.id, acct: DEMO_ACCOUNT_ID, role: u.role, name: u.name }, secret),
  })),
);
console.log(`
  Switchboard is running at ${url}
  Open it in a browser and pick a demo user to sign in.
  Demo account ${DEMO_ACCOUNT_ID}
${tokens.map((t) => `  ${t.role.padEnd(8)} ${t.name.padEnd(15)} ${t.token}`).join('\n')}

  try:  curl -H "Authorization: Bearer ${tokens[0]?.token}" ${url}/v1/sessions
  more tokens: npm run token -- --role engineer|admin|viewer
  Ctrl-C stops everything.
`);
