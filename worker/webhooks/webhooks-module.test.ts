import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { type EnqueuedJob, loggedEvent, recordingJobs } from '../../test/hub-module-fakes';
import { endpointRow as endpoint, newHook, received } from '../../test/webhook-helpers';
import { hubFor } from '../hub/hub-client';
import type { Hub } from '../hub/hub-module';
import { JobQueue } from '../hub/job-queue';
import { createWebhookTables, EndpointCache } from './endpoint-cache';
import type { eventData } from './webhook-body';
import { type DeliveryPayload, JOB, webhooksModule } from './webhooks-module';

// The module alone, on a host that only records what it asks of the job table. Its own tables
// need a real SQLite, so each test borrows a fresh hub's storage; it runs synchronously inside
// the hub, so nothing the hub itself does interleaves with it.

function withModule<T>(
  fn: (ctx: {
    module: ReturnType<typeof webhooksModule>;
    cache: EndpointCache;
    enqueued: EnqueuedJob<DeliveryPayload>[];
  }) => T,
) {
  return runInDurableObject(hubFor(env, crypto.randomUUID()), (_instance, state) => {
    const sql = state.storage.sql;
    createWebhookTables(sql);
    sql.exec('delete from webhook_endpoints');
    sql.exec('delete from webhook_meta');
    const { jobs, enqueued } = recordingJobs<DeliveryPayload>();
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
      module.onPublished?.(loggedEvent('escalation.created'));
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
      module.onPublished?.(loggedEvent('node_completed', 'run:r-1', 3));
      module.onPublished?.(loggedEvent('graph_paused', 'run:r-1', 4));
      expect(enqueued.map((j) => [j.id, j.payload.type])).toEqual([['webhook:c:run:r-1#4', 'run.paused']]);
    }));

  it('before its copy is loaded, keeps the event and asks for a reload', () =>
    withModule(({ module, cache, enqueued }) => {
      module.onPublished?.(loggedEvent('escalation.created'));
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

  // Review finding: a run event's body read the run's row from Postgres once per endpoint.
  it('reads an event’s data once for all its endpoints, which get byte-identical bodies', () =>
    runInDurableObject(hubFor(env, crypto.randomUUID()), async (_instance, state) => {
      // This hub's own alarm (its webhooks module loads its copy on wake) must not run meanwhile.
      await state.storage.deleteAlarm();
      const sql = state.storage.sql;
      sql.exec('delete from jobs');
      sql.exec('delete from webhook_endpoints');
      const jobs = new JobQueue(sql);
      const hub = {
        name: 'acct',
        sql,
        storage: state.storage,
        jobs,
        env,
        count: () => undefined,
        waitUntil: () => undefined,
        armAlarm: async () => undefined,
      } as unknown as Hub;
      let reads = 0;
      let open = () => {};
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const read: typeof eventData = (source) => {
        reads++;
        return gate.then(() => ({
          kind: 'data',
          data: { ...(source.data as object), run: { id: 'r-1', status: 'completed' } },
        }));
      };
      const module = webhooksModule(hub, { eventData: read });
      const hooks = [newHook(), newHook(), newHook(), newHook()];
      new EndpointCache(sql).replaceAll(
        hooks.map((h, i) => endpoint(`e${i}`, ['run.*'], true, h.url, i === 3 ? 'slack' : 'standard')),
        0,
      );
      module.onPublished?.(loggedEvent('graph_completed', 'run:r-1', 9));
      const due = jobs.due(Date.now(), 10).filter((j) => j.kind === JOB.delivery);
      expect(due).toHaveLength(4);
      const deliver = module.jobs?.[JOB.delivery];
      if (!deliver) throw new Error('no delivery handler');
      // Three side by side share one read; the fourth (Slack) comes after they are done.
      const [standard, slack] = [due.slice(0, 3), due[3]];
      const running = standard.map((j) => deliver.run(j));
      open();
      await Promise.all(running);
      if (slack) await deliver.run(slack);
      expect(reads).toBe(1);
      const bodies = await Promise.all(hooks.map(async (h) => (await received(h.key)).map((r) => r.body)));
      const [first, ...rest] = bodies.slice(0, 3);
      expect(first).toHaveLength(1);
      for (const b of rest) expect(b).toEqual(first);
      expect(JSON.parse(first?.[0] ?? '{}')).toMatchObject({
        type: 'run.completed',
        data: { run: { id: 'r-1', status: 'completed' } },
      });
      expect(bodies[3]).toHaveLength(1);
      expect(bodies[3]?.[0]).toContain('blocks');
    }));
});
