import { and, asc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type {
  EscalationCard,
  EscalationEvent,
  EscalationEventExtras,
  EscalationEventType,
} from '../contract/events';
import type { Db, Tx } from '../db/client';
import type { At } from '../db/clock';
import { outbox } from '../db/schema';
import { hubFor } from '../hub/hub-client';
import type { HubEvent } from '../hub/hub-module';
import { log } from '../lib/log';
import { ESCALATIONS_TOPIC } from './topic';

// The one path by which an escalation event reaches the hub's log: an outbox row written in the
// transaction that made the change, published with the row id as its de-duplication key, then
// acknowledged. Whatever is not acknowledged is published again by the relay.

/** The event types whose `data` is just `{card, version}`. */
type PlainEventType = Exclude<EscalationEventType, keyof EscalationEventExtras>;

/** Records a card change in the outbox, inside the transaction that made the change. */
export async function recordChange(
  tx: Tx,
  accountId: string,
  type: PlainEventType,
  card: EscalationCard,
  at?: At,
): Promise<HubEvent> {
  const [event] = await recordEvents(
    tx,
    accountId,
    [{ type, data: { card, version: card.version } } as EscalationEvent],
    at,
  );
  if (!event) throw new Error('outbox insert returned no row');
  return event;
}

/**
 * Records several events (each `{card, version, …extras}`) in one insert, in this order. `at` is
 * the demo seed's clock (db/clock.ts); absent, the rows take the database's `now()`.
 */
export async function recordEvents(
  tx: Tx,
  accountId: string,
  events: readonly EscalationEvent[],
  at?: At,
): Promise<HubEvent[]> {
  if (events.length === 0) return [];
  // Ids made here rather than by the database, so that they pair with the events without
  // relying on the order of RETURNING.
  const rows = events.map((e) => ({
    id: crypto.randomUUID(),
    accountId,
    topic: ESCALATIONS_TOPIC,
    eventType: e.type,
    payload: e.data,
    ...(at ? { createdAt: at } : {}),
  }));
  await tx.insert(outbox).values(rows);
  return rows.map((r) => ({ key: r.id, topic: ESCALATIONS_TOPIC, type: r.eventType, data: r.payload }));
}

/** Hands committed events to a hub: the account hub's RPC from the Worker, or the hub's own publish. */
export type PublishToHub = (events: HubEvent[]) => Promise<unknown>;

/**
 * Publishes committed outbox events and marks them acknowledged. A failure here loses nothing:
 * the rows stay unacknowledged and the relay delivers them; the hub de-duplicates by outbox id,
 * so a publish that did reach the hub is not shown twice.
 */
export async function deliverCommitted(
  db: Db,
  accountId: string,
  events: HubEvent[],
  publish: PublishToHub,
): Promise<boolean> {
  if (events.length === 0) return true;
  try {
    await publish(events);
  } catch (err) {
    log('warn', 'publish after commit failed; the outbox relay will deliver', { accountId, err });
    return false;
  }
  try {
    await db
      .update(outbox)
      .set({ publishedAt: sql`now()` })
      .where(
        inArray(
          outbox.id,
          events.map((e) => e.key),
        ),
      );
  } catch (err) {
    // Published but not acknowledged: the relay publishes again and the hub drops the duplicate.
    log('warn', 'outbox acknowledgement failed', { accountId, err });
  }
  return true;
}

/** `deliverCommitted` from the Worker, to the account's hub. */
export const publishCommitted = (env: Env, db: Db, accountId: string, events: HubEvent[]) =>
  deliverCommitted(db, accountId, events, (list) => hubFor(env, accountId).publish(accountId, list));

/**
 * The cron relay: re-publishes outbox rows older than `olderThanSeconds` that were never
 * acknowledged. Rows that keep failing (an account whose hub is down) sink behind fresh ones, so
 * one broken account cannot starve the others' redelivery.
 */
export async function relayOutbox(env: Env, db: Db, olderThanSeconds: number, limit = 500) {
  const rows = await db
    .select()
    .from(outbox)
    .where(
      and(
        isNull(outbox.publishedAt),
        lt(outbox.createdAt, sql`now() - make_interval(secs => ${olderThanSeconds})`),
      ),
    )
    .orderBy(asc(outbox.attempts), asc(outbox.createdAt))
    .limit(limit);
  const byAccount = new Map<string, typeof rows>();
  for (const row of rows) byAccount.set(row.accountId, [...(byAccount.get(row.accountId) ?? []), row]);
  let published = 0;
  let failed = 0;
  for (const [accountId, list] of byAccount) {
    const events: HubEvent[] = list.map((r) => ({
      key: r.id,
      topic: r.topic,
      type: r.eventType as EscalationEventType,
      data: r.payload,
    }));
    const ok = await publishCommitted(env, db, accountId, events);
    if (ok) published += list.length;
    else {
      failed += list.length;
      await db
        .update(outbox)
        .set({ attempts: sql`${outbox.attempts} + 1` })
        .where(
          and(
            eq(outbox.accountId, accountId),
            inArray(
              outbox.id,
              list.map((r) => r.id),
            ),
          ),
        );
    }
  }
  return { published, failed };
}
