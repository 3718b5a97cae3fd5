// Reliability of outbound webhooks (docs/webhooks.md): a receiver that is down for a while and
// flaky once it is up (500s and connections dropped without an answer), with the hub (workerd)
// killed and restarted twice in the middle. Every escalation must reach the receiver at least
// once after it comes back (losses must be 0); deliveries of one webhook-id answered 2xx more
// than once are redeliveries, which at-least-once allows: they are counted and reported.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { call, sleep } from '../../bench/lib/http';
import type { PhaseResult } from './lib';
import type { Stack } from './stack';

/** The stack's retry schedule for this phase: about 90 s of attempts, enough to outlast the outage. */
export const WEBHOOK_RELIABILITY_VARS = { WEBHOOK_RETRY_SCHEDULE: '1,2,3,5,8,10,10,10,10,10,10,10' };

const DOWN_MS = 20_000;
const FAIL_RATE = 0.25;
const DROP_RATE = 0.1;

class FlakyReceiver {
  private server: Server | undefined;
  port = 0;
  up = false;
  /** webhook-id → answers 2xx given for it. */
  readonly accepted = new Map<string, number>();
  /** card id → webhook-ids that carried it. */
  readonly cards = new Map<string, Set<string>>();
  requests = 0;
  failed = 0;
  dropped = 0;
  badSignatures = 0;

  constructor(private readonly secret: () => string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        const roll = Math.random();
        if (roll < DROP_RATE) {
          this.dropped++;
          req.socket.destroy();
          return;
        }
        if (roll < DROP_RATE + FAIL_RATE) {
          this.failed++;
          res.writeHead(500).end('flaky');
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        let payload: { type: string; data: { card?: { id: string } } };
        try {
          payload = new Webhook(this.secret()).verify(body, headers) as typeof payload;
        } catch {
          this.badSignatures++;
          res.writeHead(400).end('bad signature');
          return;
        }
        const id = headers['webhook-id'] ?? '';
        this.accepted.set(id, (this.accepted.get(id) ?? 0) + 1);
        const card = payload.data.card?.id;
        if (card) this.cards.set(card, (this.cards.get(card) ?? new Set()).add(id));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => this.server?.listen(this.port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    this.up = true;
  }

  /** Down: the port refuses connections. */
  async stop(): Promise<void> {
    const s = this.server;
    this.up = false;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
}

export async function webhookReliability(
  s: Stack,
  log: (m: string) => void,
): Promise<Omit<PhaseResult, 'phase'>> {
  const accountId = randomUUID();
  const token = await s.token({ acct: accountId, role: 'admin', name: 'Reliability Admin' });
  let secret = '';
  const receiver = new FlakyReceiver(() => secret);
  // Take a port, then go down: the endpoint is registered while nobody answers.
  await receiver.start();
  await receiver.stop();
  const reg = await call(s.url, 'POST', '/v1/webhooks', {
    token,
    body: { url: `http://127.0.0.1:${receiver.port}/hook`, events: ['escalation.created'] },
  });
  if (reg.status !== 201)
    throw new Error(`webhook register answered ${reg.status}: ${reg.text.slice(0, 200)}`);
  const endpoint = reg.json as { id: string; secret: string };
  secret = endpoint.secret;
  const session = await call(s.url, 'POST', '/v1/sessions', {
    token,
    body: { title: 'webhook reliability', problem_summary: 'receiver down, then flaky' },
  });
  const sessionId = (session.json as { id: string }).id;
  const created: string[] = [];
  const statuses = new Map<number, number>();
  const publish = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await call(s.url, 'POST', `/v1/sessions/${sessionId}/handoffs`, {
        token,
        body: { intent: 'escalate', reason: `webhook reliability ${created.length}`, severity: 'high' },
        timeoutMs: 20_000,
      }).catch(() => undefined);
      if (res) statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res?.status === 201) created.push((res.json as { id: string }).id);
    }
  };

  const downAt = Date.now();
  log('webhooks: receiver down; publishing');
  await publish(15);
  log('webhooks: killing workerd with deliveries pending');
  await s.killWorker();
  await s.startWorker();
  await publish(15);
  // Down for a while: at least DOWN_MS, whatever the restart took.
  await sleep(Math.max(0, DOWN_MS - (Date.now() - downAt)));
  log('webhooks: receiver up (flaky)');
  await receiver.start();
  const downSeconds = Math.round((Date.now() - downAt) / 1000);
  await sleep(3_000);
  log('webhooks: killing workerd again, mid-delivery');
  await s.killWorker();
  await s.startWorker();
  await publish(10);

  const deadline = Date.now() + 150_000;
  const missing = () => created.filter((id) => !receiver.cards.has(id));
  while (missing().length > 0 && Date.now() < deadline) {
    await sleep(2_000);
    // Anything a kill cut off between commit and publish goes out through the outbox relay.
    await s.runCron().catch(() => undefined);
  }
  await receiver.stop();
  const lostIds = missing();
  const redeliveries = [...receiver.accepted.values()].reduce((a, n) => a + Math.max(0, n - 1), 0);
  const cardsTwice = [...receiver.cards.values()].filter((ids) => ids.size > 1).length;
  // The log reaches Postgres in batches: wait (bounded) until it holds a success for every delivery.
  const delivered = created.length - lostIds.length;
  let loggedSuccesses = 0;
  for (let i = 0; i < 20 && loggedSuccesses < delivered; i++) {
    const page = await call(
      s.url,
      'GET',
      `/v1/webhooks/${endpoint.id}/deliveries?limit=200&status=succeeded`,
      {
        token,
      },
    );
    loggedSuccesses = (page.json as { items?: unknown[] } | undefined)?.items?.length ?? 0;
    if (loggedSuccesses < delivered) await sleep(1_000);
  }
  const failures: string[] = [];
  if (lostIds.length)
    failures.push(`${lostIds.length} escalations never delivered: ${lostIds.slice(0, 3).join(', ')}`);
  if (receiver.badSignatures)
    failures.push(`${receiver.badSignatures} deliveries failed Standard Webhooks verification`);
  if (cardsTwice) failures.push(`${cardsTwice} escalations arrived under more than one webhook-id`);
  if (loggedSuccesses < delivered)
    failures.push(`the delivery log holds ${loggedSuccesses} successes for ${delivered} deliveries`);
  if ([...statuses.keys()].some((st) => st !== 201))
    failures.push(`creates answered ${[...statuses].join(' ')}`);
  return {
    ok: failures.length === 0,
    detail: `${created.length} escalations; receiver down for ${downSeconds} s (across a workerd restart), then flaky (${Math.round(FAIL_RATE * 100)}% 500, ${Math.round(DROP_RATE * 100)}% dropped) with another restart; receiver saw ${receiver.requests} requests (${receiver.failed} answered 500, ${receiver.dropped} dropped); delivered ${delivered}/${created.length}, every one verified with standardwebhooks; redeliveries of a webhook-id already answered 2xx (allowed, at least once): ${redeliveries}; succeeded rows in the delivery log: ${loggedSuccesses}`,
    lost: lostIds.length,
    duplicates: 0,
    requests: created.length + 2,
    failures,
  };
}
