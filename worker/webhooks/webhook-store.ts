import { and, count, eq, inArray, sql } from 'drizzle-orm';
import type { WebhookDeliveryStatus, WebhookDisabledReason, WebhookFormat } from '../contract/statuses';
import { type Db, type Tx, transaction } from '../db/client';
import {
  accounts,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
  webhookDeliveries,
  webhookEndpoints,
} from '../db/schema';
import { recordNotice } from '../escalations/outbox';
import type { HubEvent } from '../hub/hub-module';
import { findInAccount, inAccount, pruneCreatedBefore } from '../lib/account-rows';
import { keysetPage, type PageWindow } from '../lib/pagination';
import { newSecret } from './signing';

// The account's webhook endpoints and their delivery log in Postgres: every read and write of
// them goes through here. The routes change endpoints; the hub reads them all (its cache) and
// writes delivery rows and the disables it decides.

/**
 * How a change of the account's endpoints reaches its hub: an outbox notice written in the change's
 * transaction, on a control topic that no client subscribes to and the hub never logs; the hub
 * reloads its copy when it gets one (worker/account-hub.ts). Being an outbox row, a notice the hub
 * missed is delivered again (retries, the marker, the sweep), so the copy cannot stay stale.
 */
export const ENDPOINTS_CHANGED = { topic: 'control:webhooks', type: 'webhooks.endpoints_changed' } as const;
export const isEndpointsChanged = (event: { topic: string }) => event.topic === ENDPOINTS_CHANGED.topic;
const endpointsChanged = (tx: Tx, accountId: string) =>
  recordNotice(tx, accountId, ENDPOINTS_CHANGED.topic, ENDPOINTS_CHANGED.type);
/** For 24 h after a rotation every delivery also carries a signature under the old secret. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60_000;

export interface NewEndpoint {
  url: string;
  events: string[];
  format: WebhookFormat;
  description?: string | undefined;
}

export interface EndpointChange {
  url?: string | undefined;
  events?: string[] | undefined;
  format?: WebhookFormat | undefined;
  description?: string | null | undefined;
  enabled?: boolean | undefined;
  rotateSecret?: boolean | undefined;
}

/**
 * Creates an endpoint with a fresh secret, unless the account already has `max` (the
 * `MAX_WEBHOOKS_PER_ACCOUNT` setting); with it, the notice for the hub.
 */
export function createEndpoint(
  db: Db,
  accountId: string,
  body: NewEndpoint,
  max: number,
): Promise<{ ok: true; row: WebhookEndpointRow; notice: HubEvent } | { ok: false; reason: 'limit' }> {
  return transaction(db, async (tx) => {
    // Locks the account row: concurrent creates are counted one after another.
    await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).for('update');
    const [existing] = await tx
      .select({ n: count() })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.accountId, accountId));
    if ((existing?.n ?? 0) >= max) return { ok: false, reason: 'limit' } as const;
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({
        accountId,
        url: body.url,
        events: body.events,
        format: body.format,
        description: body.description ?? null,
        secret: newSecret(),
      })
      .returning();
    if (!row) throw new Error('webhook endpoint insert returned no row');
    return { ok: true, row, notice: await endpointsChanged(tx, accountId) } as const;
  });
}

export function listEndpoints(db: Db, accountId: string, window: PageWindow): Promise<WebhookEndpointRow[]> {
  const where = eq(webhookEndpoints.accountId, accountId);
  return keysetPage(db.select().from(webhookEndpoints).$dynamic(), webhookEndpoints, where, window);
}

/** The endpoint, if it is in this account (another account's is as absent as a missing one). */
export function findEndpoint(db: Db, accountId: string, id: string): Promise<WebhookEndpointRow | undefined> {
  return findInAccount(db.select().from(webhookEndpoints).$dynamic(), webhookEndpoints, accountId, id);
}

/**
 * Applies an admin's change (every change bumps `version`) with the notice for the hub; undefined
 * when the endpoint is not in the account.
 */
export function updateEndpoint(
  db: Db,
  accountId: string,
  id: string,
  change: EndpointChange,
): Promise<{ row: WebhookEndpointRow; notice: HubEvent } | undefined> {
  return transaction(db, async (tx) => {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        ...(change.url !== undefined ? { url: change.url } : {}),
        ...(change.events !== undefined ? { events: change.events } : {}),
        ...(change.format !== undefined ? { format: change.format } : {}),
        ...(change.description !== undefined ? { description: change.description } : {}),
        // An admin's choice either way; a reason is only kept for what Switchboard decided itself.
        ...(change.enabled !== undefined ? { enabled: change.enabled, disabledReason: null } : {}),
        ...(change.rotateSecret
          ? {
              previousSecret: webhookEndpoints.secret,
              previousSecretExpiresAt: sql`now() + make_interval(secs => ${PREVIOUS_SECRET_GRACE_MS / 1000})`,
              secret: newSecret(),
            }
          : {}),
        version: sql`${webhookEndpoints.version} + 1`,
        updatedAt: sql`now()`,
      })
      .where(inAccount(webhookEndpoints, accountId, id))
      .returning();
    return row ? { row, notice: await endpointsChanged(tx, accountId) } : undefined;
  });
}

/** Deletes the endpoint and (by cascade) its delivery log; the notice for the hub, if it was there. */
export function deleteEndpoint(db: Db, accountId: string, id: string): Promise<HubEvent | undefined> {
  return transaction(db, async (tx) => {
    const rows = await tx
      .delete(webhookEndpoints)
      .where(inAccount(webhookEndpoints, accountId, id))
      .returning({ id: webhookEndpoints.id });
    return rows.length > 0 ? endpointsChanged(tx, accountId) : undefined;
  });
}

/** Every endpoint of the account, for the hub's copy. */
export function endpointsOf(db: Db, accountId: string): Promise<WebhookEndpointRow[]> {
  return db.select().from(webhookEndpoints).where(eq(webhookEndpoints.accountId, accountId));
}

/**
 * Disables an endpoint for a reason Switchboard decided (410, five days of failures), only if
 * nobody changed it since `version` (an admin who re-enabled it meanwhile wins). The new version,
 * or undefined when it was changed or deleted.
 */
export async function disableEndpoint(
  db: Db,
  accountId: string,
  id: string,
  version: number,
  reason: WebhookDisabledReason,
): Promise<number | undefined> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({
      enabled: false,
      disabledReason: reason,
      version: sql`${webhookEndpoints.version} + 1`,
      updatedAt: sql`now()`,
    })
    .where(and(inAccount(webhookEndpoints, accountId, id), eq(webhookEndpoints.version, version)))
    .returning({ version: webhookEndpoints.version });
  return row?.version;
}

export function listDeliveries(
  db: Db,
  endpointId: string,
  opts: PageWindow & { status?: WebhookDeliveryStatus | undefined },
): Promise<WebhookDeliveryRow[]> {
  const where = and(
    eq(webhookDeliveries.endpointId, endpointId),
    opts.status ? eq(webhookDeliveries.status, opts.status) : undefined,
  );
  return keysetPage(db.select().from(webhookDeliveries).$dynamic(), webhookDeliveries, where, opts);
}

export type NewDelivery = typeof webhookDeliveries.$inferInsert;

/**
 * Writes delivery rows the hub recorded; a row written before (a retried batch) is skipped, and
 * so is a row of an endpoint deleted meanwhile (its log went with it).
 */
export async function insertDeliveries(db: Db, rows: NewDelivery[]): Promise<number> {
  if (rows.length === 0) return 0;
  const ids = [...new Set(rows.map((r) => r.endpointId))];
  const live = new Set(
    (
      await db
        .select({ id: webhookEndpoints.id })
        .from(webhookEndpoints)
        .where(inArray(webhookEndpoints.id, ids))
    ).map((r) => r.id),
  );
  const kept = rows.filter((r) => live.has(r.endpointId));
  if (kept.length === 0) return 0;
  const written = await db
    .insert(webhookDeliveries)
    .values(kept)
    .onConflictDoNothing({ target: webhookDeliveries.id })
    .returning({ id: webhookDeliveries.id });
  return written.length;
}

/** Deletes the account's delivery rows older than `before`; returns the oldest row left, if any. */
export function pruneDeliveries(db: Db, accountId: string, before: Date): Promise<Date | undefined> {
  return pruneCreatedBefore(db, webhookDeliveries, accountId, before);
}
