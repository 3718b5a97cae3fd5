// The peer stack: the escalation feature built the way a Node team would, for the side-by-side
// benchmark. One Node process: node:http, JWT verification (hono/jwt, HS256, the same secret), a
// `pg` pool on the same PostgreSQL server, the same INSERT (the handoff, with its card built by
// Switchboard's own card builder, so the card is the same size), Redis pub/sub to fan out, and SSE
// written straight to each response. What it does not do, and Switchboard does: an outbox row per
// change (exactly-once delivery across crashes), a durable replayable log, hibernation.
// Env: PEER_PORT, DATABASE_URL, REDIS_URL, JWT_SECRET. Prints one JSON line when listening.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { verify } from 'hono/jwt';
import pg from 'pg';
import { createClient } from 'redis';
import { z } from 'zod';
import { HANDOFF_INTENTS, SEVERITIES } from '../../worker/contract/statuses';
import { cardsFrom } from '../../worker/escalations/cards';

const port = Number(process.env.PEER_PORT ?? 0);
const secret = process.env.JWT_SECRET ?? '';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
pool.on('error', () => {});
const db = drizzle({ client: pool });
const publisher = createClient({ url: process.env.REDIS_URL });
const subscriber = publisher.duplicate();
publisher.on('error', () => {});
subscriber.on('error', () => {});
await publisher.connect();
await subscriber.connect();

const Body = z.object({
  intent: z.enum(HANDOFF_INTENTS),
  reason: z.string().trim().min(1).max(2_000),
  severity: z.enum(SEVERITIES),
});
const Claims = z.object({ sub: z.uuid(), acct: z.uuid(), role: z.string(), name: z.string() });

/** Open streams per account, and each account's next event id (this process's own sequence). */
const streams = new Map<string, Set<ServerResponse>>();
const nextId = new Map<string, number>();

await subscriber.pSubscribe('escalations:*', (message, channel) => {
  const account = channel.slice('escalations:'.length);
  const { type, data } = JSON.parse(message) as { type: string; data: unknown };
  const id = (nextId.get(account) ?? 0) + 1;
  nextId.set(account, id);
  const frame = `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  for (const res of streams.get(account) ?? []) res.write(frame);
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

async function auth(req: IncomingMessage) {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Bearer ')) return undefined;
  try {
    return Claims.parse(await verify(header.slice(7), secret, 'HS256'));
  } catch {
    return undefined;
  }
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });

async function createHandoff(req: IncomingMessage, res: ServerResponse, sessionId: string) {
  const who = await auth(req);
  if (!who) return json(res, 401, { error: { code: 'unauthorized', message: 'token required' } });
  const parsed = Body.safeParse(JSON.parse(await readBody(req)));
  if (!parsed.success) return json(res, 400, { error: { code: 'validation_failed', message: 'bad body' } });
  const b = parsed.data;
  const result = await db.execute<{ card: Record<string, unknown> }>(sql`
    with s0 as (
      select id from sessions where id = ${sessionId}::uuid and account_id = ${who.acct}::uuid
    ), inserted as (
      insert into handoffs (account_id, session_id, created_by, intent, reason, severity)
      select ${who.acct}::uuid, s0.id, ${who.sub}::uuid, ${b.intent}::handoff_intent, ${b.reason},
             ${b.severity}::handoff_severity
      from s0
      returning *
    ), card as (${cardsFrom(sql.raw('inserted'))})
    select card.card as card from card`);
  const card = result.rows[0]?.card;
  if (!card) return json(res, 404, { error: { code: 'not_found', message: 'session not found' } });
  await publisher.publish(
    `escalations:${who.acct}`,
    JSON.stringify({ type: 'escalation.created', data: { card, version: 1 } }),
  );
  json(res, 201, card);
}

async function stream(req: IncomingMessage, res: ServerResponse) {
  const who = await auth(req);
  if (!who) return json(res, 401, { error: { code: 'unauthorized', message: 'token required' } });
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.write('retry: 3000\n\n');
  const set = streams.get(who.acct) ?? new Set<ServerResponse>();
  streams.set(who.acct, set);
  set.add(res);
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(keepalive);
    set.delete(res);
  });
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://peer');
  const handoff = /^\/v1\/sessions\/([0-9a-f-]{36})\/handoffs$/.exec(url.pathname);
  const work =
    req.method === 'POST' && handoff
      ? createHandoff(req, res, handoff[1] as string)
      : req.method === 'GET' && url.pathname === '/v1/escalations/stream'
        ? stream(req, res)
        : req.method === 'GET' && url.pathname === '/healthz'
          ? Promise.resolve(json(res, 200, { ok: true }))
          : Promise.resolve(json(res, 404, { error: { code: 'not_found', message: 'no route' } }));
  work.catch((err: unknown) => {
    if (!res.headersSent) json(res, 500, { error: { code: 'internal', message: String(err) } });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(
    `${JSON.stringify({ ready: true, port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`,
  );
});
