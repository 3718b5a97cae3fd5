import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { WebhookEndpointRow } from '../worker/db/schema';
import { hubFor } from '../worker/hub/hub-client';
import type { JobRow } from './clock-helpers';
import { waitFor } from './escalation-helpers';
import { call, json, type TestUser } from './helpers';
import type { Received, Step } from './setup/webhook-receiver-protocol';

// The loopback receiver (test/setup/webhook-receiver.ts) and the webhook API, for the tests.

export type { Received, Step };

const base = (env as unknown as { TEST_WEBHOOK_URL: string }).TEST_WEBHOOK_URL;

/** An endpoint as Postgres holds it, for the module's copy (`EndpointCache.replaceAll`). */
export const endpointRow = (
  id: string,
  events: string[],
  enabled = true,
  url = `https://hooks.example.com/${id}`,
  format: WebhookEndpointRow['format'] = 'standard',
): WebhookEndpointRow => ({
  id,
  accountId: 'acct',
  url,
  format,
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

export interface Endpoint {
  id: string;
  url: string;
  format: string;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  previous_secret_expires_at: string | null;
  secret?: string;
}

export interface Delivery {
  id: string;
  event_id: string;
  type: string;
  attempt: number;
  status: 'pending' | 'succeeded' | 'failed';
  response_status: number | null;
  response_body: string | null;
  duration_ms: number | null;
  error: string | null;
  at: string;
  next_attempt_at: string | null;
}

/** A fresh receiver key (its own URL on the shared receiver). */
export const newHook = () => {
  const key = crypto.randomUUID();
  return { key, url: `${base}/hook/${key}` };
};

/** How the receiver answers the next deliveries to `key` (the last step repeats). */
export async function script(key: string, steps: Step[]): Promise<void> {
  const res = await fetch(`${base}/__script/${key}`, { method: 'PUT', body: JSON.stringify(steps) });
  if (!res.ok) throw new Error(`receiver script: ${res.status}`);
}

/** How many deliveries to `key` the receiver holds unanswered (and their sender still waits on). */
export async function held(key: string): Promise<number> {
  return ((await (await fetch(`${base}/__held/${key}`)).json()) as { held: number }).held;
}

/** Answers every held delivery to `key`; later ones are answered at once. */
export async function release(key: string): Promise<number> {
  const res = await fetch(`${base}/__release/${key}`, { method: 'POST' });
  if (!res.ok) throw new Error(`receiver release: ${res.status}`);
  return ((await res.json()) as { released: number }).released;
}

export async function received(key: string): Promise<Received[]> {
  return (await (await fetch(`${base}/__received/${key}`)).json()) as Received[];
}

/** Waits until the receiver has at least `n` deliveries for `key`. */
export const receivedAtLeast = (key: string, n: number, timeoutMs = 10_000) =>
  waitFor(
    async () => {
      const list = await received(key);
      return list.length >= n ? list : undefined;
    },
    `${n} deliveries to ${key}`,
    timeoutMs,
  );

export async function register(admin: TestUser, body: Record<string, unknown>): Promise<Endpoint> {
  const res = await call('/v1/webhooks', admin, { body });
  if (res.status !== 201) throw new Error(`webhook create failed: ${res.status} ${await res.text()}`);
  return json<Endpoint>(res);
}

export async function deliveries(admin: TestUser, id: string): Promise<Delivery[]> {
  const res = await call(`/v1/webhooks/${id}/deliveries?limit=200`, admin);
  if (res.status !== 200) throw new Error(`deliveries failed: ${res.status} ${await res.text()}`);
  return (await json<{ items: Delivery[] }>(res)).items;
}

/** Waits until the delivery log (copied to Postgres in batches) satisfies `ok`. */
export const deliveriesUntil = (
  admin: TestUser,
  id: string,
  ok: (items: Delivery[]) => boolean,
  what: string,
  timeoutMs = 10_000,
) =>
  waitFor(
    async () => {
      const items = await deliveries(admin, id);
      return ok(items) ? items : undefined;
    },
    what,
    timeoutMs,
  );

export async function getEndpoint(admin: TestUser, id: string): Promise<Endpoint> {
  const res = await call(`/v1/webhooks/${id}`, admin);
  if (res.status !== 200) throw new Error(`webhook get failed: ${res.status} ${await res.text()}`);
  return json<Endpoint>(res);
}

/**
 * The hub's delivery jobs (queued, waiting for a retry, or being sent), of one endpoint if named.
 * With none left for an endpoint, nothing more is ever sent to it: fan-out enqueues them inside
 * the publish.
 */
export const deliveryJobs = (accountId: string, endpointId?: string) =>
  runInDurableObject(hubFor(env, accountId), (_h, state) =>
    state.storage.sql
      .exec<JobRow>(
        `select id, kind, run_at, attempts, last_error from jobs
         where kind = 'webhook-delivery' and id like ? order by id`,
        endpointId ? `webhook:${endpointId}:%` : 'webhook:%',
      )
      .toArray(),
  );
