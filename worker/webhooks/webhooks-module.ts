import { getConfig } from '../config';
import { selectsEvent } from '../contract/events';
import type { WebhookFormat } from '../contract/statuses';
import { type DbHandle, openDb } from '../db/client';
import type { Hub, HubModule, LoggedEvent } from '../hub/hub-module';
import type { Job } from '../hub/job-queue';
import { getOrCreate } from '../lib/get-or-create';
import { log } from '../lib/log';
import {
  type CachedEndpoint,
  createWebhookTables,
  EndpointCache,
  type PendingDelivery,
} from './endpoint-cache';
import { webhookTypeOf } from './event-types';
import { sendAttempt } from './send-attempt';
import { signatureHeader } from './signing';
import { EventDataMemo, eventData, RUN_CATCH_UP_POLL_MS, renderBody } from './webhook-body';
import { disableEndpoint, endpointsOf, insertDeliveries, pruneDeliveries } from './webhook-store';
import { describeTarget } from './webhook-target';

// Outbound webhooks inside the account's hub (docs/webhooks.md). `onPublished` decides, inside
// the publishing transaction, which endpoints each new event goes to, from the module's own copy
// of the account's endpoints, and enqueues one delivery job per event and endpoint (keyed by both,
// so never twice). The alarm starts them in the background, off every request's path and without
// holding up the hub's other jobs; each attempt is recorded in the hub's SQLite in the same
// transaction that completes or reschedules its job, and copied to Postgres in batches by the
// `webhook-log-sync` job.

/** An endpoint that has failed every attempt for this long is disabled (DESIGN.md). */
export const FAILING_DISABLE_AFTER_MS = 5 * 24 * 60 * 60_000;
const SYNC_BATCH = 500;
/** Attempts are copied to Postgres this long after the first one waiting: one batch, not a write each. */
const LOG_SYNC_DELAY_MS = 1_000;
const USER_AGENT = 'Switchboard-Webhooks/1';
/**
 * Deliveries in flight at once from one hub. They run in the background (the alarm does not wait
 * for them); a Worker invocation opens at most 6 connections at a time, and one more would wait
 * for a free one while its own timeout runs.
 */
const DELIVERIES_IN_FLIGHT = 6;
/**
 * Deliveries in flight to one endpoint: a receiver that stalls holds this many, and the others'
 * deliveries keep flowing. Order is not promised (docs/webhooks.md), so more than one.
 */
const PER_ENDPOINT_IN_FLIGHT = 3;
/**
 * A delivery due while its endpoint has no free slot waits this long; a slot that frees first
 * makes the earliest waiting one due at once, so this only matters after a restart.
 */
const ENDPOINT_BUSY_WAIT_MS = 30_000;
/**
 * A delivery's lease beyond its attempt's timeout (the body may wait on Postgres first). A hub
 * that died mid-attempt sends it again this long after; one still sending here gets a longer lease.
 */
const DELIVERY_LEASE_SLACK_MS = 15_000;

export const JOB = {
  delivery: 'webhook-delivery',
  logSync: 'webhook-log-sync',
  reload: 'webhook-reload',
  prune: 'webhook-prune',
} as const;

export interface DeliveryPayload {
  endpointId: string;
  /** The `webhook-id`: one per event, the same for every attempt and endpoint. */
  messageId: string;
  type: string;
  /** The hub topic and event id it came from; null for a test ping. */
  topic: string | null;
  eventId: number | null;
  at: number;
  data: unknown;
  /** Attempts made so far. */
  attempt: number;
  /** Frozen after the first attempt, so every retry sends the same bytes. */
  body?: string;
  bodyFormat?: WebhookFormat;
}

export type TestResult =
  | { ok: true; event_id: string }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/** Test pings per endpoint in any minute: each is a request to somebody's server. */
export const TESTS_PER_MINUTE = 5;

export interface WebhooksModule extends HubModule {
  /** Reloads the endpoints from Postgres: on every notice that they changed (worker/account-hub.ts). */
  refresh(): Promise<void>;
  /** Enqueues a `ping` to the endpoint (whatever its event filter, also when disabled). */
  sendTest(endpointId: string): Promise<TestResult>;
}

/**
 * A time to move a running delivery's job to. The host completes the leased row once the handler
 * returns unless it moved, and a move to the lease's own millisecond would not look like one.
 */
const awayFrom = (job: Job, at: number) => (at === job.runAt ? at + 1 : at);

const newMessageId = () => `msg_${crypto.randomUUID().replace(/-/g, '')}`;
const deliveryJobId = (endpointId: string, key: string) => `webhook:${endpointId}:${key}`;

/** What a test may swap: where an event's `data` comes from (Postgres, for a run event). */
export interface WebhooksModuleDeps {
  eventData?: typeof eventData;
}

export function webhooksModule(hub: Hub, deps: WebhooksModuleDeps = {}): WebhooksModule {
  const cache = new EndpointCache(hub.sql);
  /** When each endpoint was sent its test pings of the last minute. */
  const testsAt = new Map<string, number[]>();
  const config = () => getConfig(hub.env);
  const readData = deps.eventData ?? eventData;
  /** Each event's data, read once for all its endpoints (keyed by its `webhook-id`). */
  const shared = new EventDataMemo();
  /** Deliveries in flight per endpoint, and the ones waiting for a slot (job id, the time it waits to). */
  const sending = new Map<string, number>();
  const waiting = new Map<string, { id: string; at: number }[]>();

  /** A database handle opened on first use only, closed after the caller is done. */
  async function withDb<T>(fn: (db: () => DbHandle['db']) => Promise<T>): Promise<T> {
    let handle: DbHandle | undefined;
    try {
      return await fn(() => {
        handle ??= openDb(config());
        return handle.db;
      });
    } finally {
      if (handle) hub.waitUntil(handle.close());
    }
  }

  /** One delivery job per endpoint that wants the event. Synchronous: runs inside the publish. */
  function fanOut(event: LoggedEvent): void {
    const type = webhookTypeOf(event.topic, event.type);
    if (!type) return;
    const endpoints = cache.all().filter((e) => e.enabled && selectsEvent(e.events, type));
    if (endpoints.length === 0) return;
    const messageId = newMessageId();
    for (const e of endpoints) {
      const payload: DeliveryPayload = {
        endpointId: e.id,
        messageId,
        type,
        topic: event.topic,
        eventId: event.id,
        at: event.at,
        data: event.data,
        attempt: 0,
      };
      hub.jobs.enqueue(deliveryJobId(e.id, `${event.topic}#${event.id}`), JOB.delivery, payload, event.at);
    }
  }

  // Reloads run one after another: the last one started after every change that asked for it,
  // so the copy ends as Postgres is.
  let reloading: Promise<void> = Promise.resolve();
  function reload(): Promise<void> {
    const next = reloading.catch(() => undefined).then(loadFromPostgres);
    reloading = next;
    return next;
  }

  async function loadFromPostgres(): Promise<void> {
    const rows = await withDb((db) => endpointsOf(db(), hub.name));
    hub.storage.transactionSync(() => {
      cache.replaceAll(rows, Date.now());
      for (const event of cache.takeBacklog()) fanOut(event);
    });
    await hub.armAlarm();
  }

  function scheduleLogSync(now: number): void {
    hub.jobs.enqueue(JOB.logSync, JOB.logSync, {}, now + LOG_SYNC_DELAY_MS);
  }

  /** Records the outcome of an attempt and what follows, in one transaction. */
  function settle(
    job: Job,
    p: DeliveryPayload,
    endpoint: CachedEndpoint,
    outcome: Awaited<ReturnType<typeof sendAttempt>> | { kind: 'not_sent'; error: string },
    body: string | undefined,
    now: number,
  ): void {
    const schedule = config().WEBHOOK_RETRY_SCHEDULE;
    const attempt = p.attempt + 1;
    hub.storage.transactionSync(() => {
      const current = cache.get(endpoint.id);
      // Deleted meanwhile: its log went with it.
      if (!current) return hub.jobs.complete(job.id);
      let status: PendingDelivery['status'] = 'failed';
      let nextAttemptAt: number | null = null;
      if (outcome.kind === 'succeeded') {
        status = 'succeeded';
        cache.succeeded(endpoint.id);
        hub.jobs.complete(job.id);
      } else if (outcome.kind === 'gone') {
        cache.disable(endpoint.id, 'gone');
        hub.jobs.complete(job.id);
      } else if (outcome.kind === 'not_sent') {
        hub.jobs.complete(job.id);
      } else {
        const since = cache.failed(endpoint.id, now);
        if (current.enabled && now - since >= FAILING_DISABLE_AFTER_MS) cache.disable(endpoint.id, 'failing');
        const stillOn = cache.get(endpoint.id)?.enabled === true || p.type === 'ping';
        const delay = schedule[attempt - 1];
        if (stillOn && delay !== undefined) {
          status = 'pending';
          nextAttemptAt = now + delay * 1000;
          hub.jobs.upsert(
            job.id,
            JOB.delivery,
            { ...p, attempt, body, bodyFormat: endpoint.format },
            nextAttemptAt,
          );
        } else {
          hub.jobs.complete(job.id);
        }
      }
      const sent = outcome.kind !== 'not_sent';
      cache.recordAttempt({
        id: crypto.randomUUID(),
        accountId: hub.name,
        endpointId: endpoint.id,
        eventId: p.messageId,
        type: p.type,
        attempt,
        status,
        responseStatus: sent ? outcome.responseStatus : null,
        responseBody: sent ? outcome.responseBody : null,
        durationMs: sent ? outcome.durationMs : null,
        error: outcome.error,
        createdAt: now,
        nextAttemptAt,
      });
      scheduleLogSync(now);
    });
  }

  /**
   * A background job (the alarm does not wait for it): one attempt, unless the endpoint already
   * has PER_ENDPOINT_IN_FLIGHT attempts out; then it waits for a slot without spinning the alarm.
   */
  async function deliver(job: Job): Promise<void> {
    const p = job.payload as DeliveryPayload;
    const endpoint = cache.get(p.endpointId);
    if (!endpoint) return hub.jobs.complete(job.id);
    const now = Date.now();
    if (!endpoint.enabled && p.type !== 'ping') {
      settle(
        job,
        p,
        endpoint,
        { kind: 'not_sent', error: 'not sent: the endpoint is disabled' },
        undefined,
        now,
      );
      return;
    }
    const busy = sending.get(endpoint.id) ?? 0;
    if (busy >= PER_ENDPOINT_IN_FLIGHT) {
      const at = awayFrom(job, now + ENDPOINT_BUSY_WAIT_MS);
      if (hub.jobs.reschedule(job, at)) getOrCreate(waiting, endpoint.id, () => []).push({ id: job.id, at });
      return;
    }
    sending.set(endpoint.id, busy + 1);
    try {
      await attempt(job, p, endpoint, now);
    } finally {
      freeSlot(endpoint.id);
    }
  }

  /** An attempt to the endpoint ended: the earliest delivery waiting for its slot is due now. */
  function freeSlot(endpointId: string): void {
    const left = (sending.get(endpointId) ?? 1) - 1;
    if (left > 0) sending.set(endpointId, left);
    else sending.delete(endpointId);
    const queue = waiting.get(endpointId) ?? [];
    for (let next = queue.shift(); next; next = queue.shift()) {
      const job = hub.jobs.get(next.id);
      // Still waiting as it was put off (not run, moved or deleted since).
      if (job?.runAt === next.at && hub.jobs.reschedule(job, Date.now())) break;
    }
    if (queue.length === 0) waiting.delete(endpointId);
  }

  async function attempt(job: Job, p: DeliveryPayload, endpoint: CachedEndpoint, now: number): Promise<void> {
    const c = config();
    let body = p.bodyFormat === endpoint.format ? p.body : undefined;
    if (body === undefined) {
      const data = await shared.get(p.messageId, () =>
        withDb((db) => readData(p, { accountId: hub.name, db, now })),
      );
      if (data.kind === 'wait') {
        hub.jobs.upsert(job.id, job.kind, p, awayFrom(job, now + RUN_CATCH_UP_POLL_MS));
        return;
      }
      body = renderBody(p, data.data, endpoint.format, c.PUBLIC_URL);
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const secrets = [endpoint.secret];
    if (endpoint.previousSecret && (endpoint.previousExpiresAt ?? 0) > Date.now())
      secrets.push(endpoint.previousSecret);
    const outcome = await sendAttempt({
      url: endpoint.url,
      body,
      timeoutMs: c.WEBHOOK_TIMEOUT_MS,
      allowHosts: c.WEBHOOK_ALLOW_HOSTS,
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': p.messageId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': await signatureHeader(secrets, p.messageId, timestamp, body),
      },
    });
    hub.count('webhook_deliveries');
    if (outcome.kind !== 'succeeded') {
      log('info', 'webhook attempt failed', {
        endpointId: endpoint.id,
        target: describeTarget(endpoint.url),
        attempt: p.attempt + 1,
        status: outcome.responseStatus,
        error: outcome.error,
      });
    }
    settle(job, p, endpoint, outcome, body, Date.now());
  }

  /** Copies recorded attempts and the hub's own disables to Postgres. */
  async function syncLog(job: Job): Promise<void> {
    const c = config();
    let changedElsewhere = false;
    await withDb(async (db) => {
      for (;;) {
        const batch = cache.attempts(SYNC_BATCH);
        if (batch.length === 0) break;
        await insertDeliveries(
          db(),
          batch.map((r) => ({
            ...r,
            createdAt: new Date(r.createdAt),
            nextAttemptAt: r.nextAttemptAt === null ? null : new Date(r.nextAttemptAt),
          })),
        );
        cache.deleteAttempts(batch.map((r) => r.id));
        if (batch.length < SYNC_BATCH) break;
      }
      for (const e of cache.pendingDisables()) {
        const reason = e.disabledReason ?? 'failing';
        const version = await disableEndpoint(db(), hub.name, e.id, e.version, reason);
        cache.disableRecorded(e.id, version);
        if (version === undefined) changedElsewhere = true;
        else
          log('warn', 'webhook endpoint disabled', {
            endpointId: e.id,
            reason,
            target: describeTarget(e.url),
          });
      }
    });
    const now = Date.now();
    // Attempts recorded while this ran are copied by another pass; otherwise the job is done.
    if (cache.attemptCount() > 0) hub.jobs.upsert(job.id, job.kind, {}, now + LOG_SYNC_DELAY_MS);
    else hub.jobs.complete(job.id);
    hub.jobs.enqueue(JOB.prune, JOB.prune, {}, now + c.WEBHOOK_DELIVERY_RETENTION_DAYS * 86_400_000);
    if (changedElsewhere) await reload();
  }

  /** Deletes delivery rows past their retention; comes back when the oldest left expires. */
  async function prune(job: Job): Promise<void> {
    const retentionMs = config().WEBHOOK_DELIVERY_RETENTION_DAYS * 86_400_000;
    const now = Date.now();
    const oldest = await withDb((db) => pruneDeliveries(db(), hub.name, new Date(now - retentionMs)));
    if (oldest)
      hub.jobs.upsert(job.id, job.kind, {}, Math.max(now + 60 * 60_000, oldest.getTime() + retentionMs));
    else hub.jobs.complete(job.id);
  }

  return {
    name: 'webhooks',
    migrations: [createWebhookTables],
    /** A hub whose copy was never loaded (created before webhooks, or never told) loads it once. */
    async recover() {
      if (cache.loaded()) return;
      hub.jobs.enqueue(JOB.reload, JOB.reload, {}, Date.now());
      await hub.armAlarm();
    },
    jobs: {
      [JOB.delivery]: {
        run: deliver,
        background: {
          leaseMs: config().WEBHOOK_TIMEOUT_MS + DELIVERY_LEASE_SLACK_MS,
          maxInFlight: DELIVERIES_IN_FLIGHT,
        },
      },
      [JOB.logSync]: { run: syncLog },
      [JOB.reload]: {
        run: async (job) => {
          await reload();
          hub.jobs.complete(job.id);
        },
      },
      [JOB.prune]: { run: prune },
    },
    onPublished(event) {
      if (!webhookTypeOf(event.topic, event.type)) return;
      if (cache.loaded()) return fanOut(event);
      cache.addBacklog(event);
      hub.jobs.enqueue(JOB.reload, JOB.reload, {}, event.at);
    },
    refresh: reload,
    async sendTest(endpointId) {
      if (!cache.get(endpointId)) await reload();
      if (!cache.get(endpointId)) return { ok: false, reason: 'not_found' };
      const at = Date.now();
      // A sliding minute, in memory: a hub that slept forgets, which only ever allows a test sooner.
      const recent = (testsAt.get(endpointId) ?? []).filter((t) => t > at - 60_000);
      if (recent.length >= TESTS_PER_MINUTE) {
        const wait = (recent[0] ?? at) + 60_000 - at;
        return { ok: false, reason: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
      }
      if (testsAt.size >= 1_000) testsAt.clear();
      testsAt.set(endpointId, [...recent, at]);
      const messageId = newMessageId();
      const payload: DeliveryPayload = {
        endpointId,
        messageId,
        type: 'ping',
        topic: null,
        eventId: null,
        at,
        data: { endpoint_id: endpointId, message: 'A test delivery from Switchboard.' },
        attempt: 0,
      };
      hub.jobs.enqueue(deliveryJobId(endpointId, `ping:${messageId}`), JOB.delivery, payload, at);
      await hub.armAlarm();
      return { ok: true, event_id: messageId };
    },
  };
}
