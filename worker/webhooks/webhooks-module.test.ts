import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { WebhookEndpointRow } from '../db/schema';
import { hubFor } from '../hub/hub-client';
import type { Hub, LoggedEvent } from '../hub/hub-module';
import type { JobQueue } from '../hub/job-queue';
import { createWebhookTables, EndpointCache } from './endpoint-cache';
import { type DeliveryPayload, webhooksModule } from './webhooks-module';

// The module alone, on a host that only records what it asks of the job table. Its own tables
// need a real SQLite, so each test borrows a fresh hub's storage; it runs synchronously inside
// the hub, so nothing the hub itself does interleaves with it.

const endpoint = (id: string, events: string[], enabled = true): WebhookEndpointRow => ({
  id,
  accountId: 'acct',
  url: `https://hooks.example.com/${id}`,
  format: 'standard',
  events,
  description: null,
  enabled,
  disabledReason: null,
  secret: 'whsec_c2VjcmV0',
  previousSecret: null,
  previousSecretExpiresAt: null,
  version: 1,
  createdAt: new Date(),
  updatedAt: new Date(),
});

const event = (type: string, topic = 'escalations', id = 7): LoggedEvent => ({
  key: 'k',
  topic,
  type,
  data: { card: { id: 'h-1' }, version: 1 },
  id,
  at: 1_000,
});

function withModule<T>(
  fn: (ctx: {
    module: ReturnType<typeof webhooksModule>;
    cache: EndpointCache;
    enqueued: { id: string; kind: string; payload: DeliveryPayload; runAt: number }[];
  }) => T,
) {
  return runInDurableObject(hubFor(env, crypto.randomUUID()), (_instance, state) => {
    const sql = state.storage.sql;
    createWebhookTables(sql);
    sql.exec('delete from webhook_endpoints');
    sql.exec('delete from webhook_meta');
    const enqueued: { id: string; kind: string; payload: DeliveryPayload; runAt: number }[] = [];
    const jobs = {
      enqueue: (id: string, kind: string, payload: DeliveryPayload, runAt: number) => {
        enqueued.push({ id, kind, payload, runAt });
        return true;
      },
    } as unknown as JobQueue;
    const hub = { name: 'acct', sql, storage: state.storage, jobs, env } as unknown as Hub;
    return fn({ module: webhooksModule(hub), cache: new EndpointCache(sql), enqueued });
  });
}

describe('the webhooks hub module', () => {
  it('enqueues one delivery per enabled endpoint that wants the event, keyed by event and endpoint', () =>
    withModule(({ module, cache, enqueued }) => {
      cache.replaceAll(
        [
          endpoint('a', ['escalation.*']),
          endpoint('b', ['escalation.created']),
          endpoint('c', ['run.*']),
          endpoint('d', ['*'], false),
        ],
        0,
      );
      module.onPublished?.(event('escalation.created'));
      expect(enqueued.map((j) => [j.id, j.kind, j.runAt])).toEqual([
        ['webhook:a:escalations#7', 'webhook-delivery', 1_000],
        ['webhook:b:escalations#7', 'webhook-delivery', 1_000],
      ]);
      const [first, second] = enqueued.map((j) => j.payload);
      expect(first?.messageId).toBe(second?.messageId);
      expect(first).toMatchObject({
        type: 'escalation.created',
        topic: 'escalations',
        eventId: 7,
        attempt: 0,
      });
    }));

  it('maps run events and ignores the steps', () =>
    withModule(({ module, cache, enqueued }) => {
      cache.replaceAll([endpoint('c', ['run.*'])], 0);
      module.onPublished?.(event('node_completed', 'run:r-1', 3));
      module.onPublished?.(event('graph_paused', 'run:r-1', 4));
      expect(enqueued.map((j) => [j.id, j.payload.type])).toEqual([['webhook:c:run:r-1#4', 'run.paused']]);
    }));

  it('before its copy is loaded, keeps the event and asks for a reload', () =>
    withModule(({ module, cache, enqueued }) => {
      module.onPublished?.(event('escalation.created'));
      expect(enqueued.map((j) => j.kind)).toEqual(['webhook-reload']);
      expect(cache.takeBacklog().map((e) => e.type)).toEqual(['escalation.created']);
    }));

  it('claims its job kinds', () =>
    withModule(({ module }) => {
      expect(Object.keys(module.jobs ?? {}).sort()).toEqual([
        'webhook-delivery',
        'webhook-log-sync',
        'webhook-prune',
        'webhook-reload',
      ]);
    }));
});
