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
// acknowledged. Whatever is not acknowledged is published again: by the Worker's retries, by a
// sweep of the account's rows when the database is next used for it, or by the rare cron for
// accounts in the outbox marker. Nothing here queries Postgres when nothing is pending.

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

/**
 * Records a notice to the account's hub in the transaction of a change it must hear of (a control
 * topic: the hub acts on it and never logs it, see worker/account-hub.ts). It travels the same
 * path as every event, so an unreachable hub hears of it later instead of never.
 */
export async function recordNotice(
  tx: Tx,
  accountId: string,
  topic: string,
  type: string,
): Promise<HubEvent> {
  const id = crypto.randomUUID();
  await tx.insert(outbox).values({ id, accountId, topic, eventType: type, payload: {} });
  return { key: id, topic, type, data: {} };
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
  if (!(await tryPublish(accountId, events, publish))) return false;
  await acknowledge(db, accountId, events);
  return true;
}

/** Whether the hub took the events; a failure is logged, never thrown (the outbox keeps them). */
function tryPublish(accountId: string, events: HubEvent[], publish: PublishToHub): Promise<boolean> {
  return Promise.resolve()
    .then(() => publish(events))
    .then(
      () => true,
      (err: unknown) => {
        log('warn', 'publish to the account hub failed', { accountId, err });
        return false;
      },
    );
}

/** The account hub's own publish, over RPC from the Worker. */
const toAccountHub =
  (env: Env, accountId: string): PublishToHub =>
  (events) =>
    hubFor(env, accountId).publish(accountId, events);

async function acknowledge(db: Db, accountId: string, events: HubEvent[]): Promise<void> {
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
    // Published but not acknowledged: a later sweep publishes again and the hub drops the duplicate.
    log('warn', 'outbox acknowledgement failed', { accountId, err });
  }
}

/** The one outbox marker instance (worker/escalations/outbox-marker.ts). */
export const outboxMarker = (env: Env) => env.OUTBOX_MARKER.get(env.OUTBOX_MARKER.idFromName('outbox'));

/** How long a request waits for the hub to log its change before answering anyway (delivery continues). */
const FIRST_PUBLISH_TIMEOUT_MS = 2_000;
/** Further attempts after the response, within the request's `waitUntil`, before the marker. */
const RETRY_DELAYS_MS = [250, 1_000, 4_000];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Delivery {
  /** Resolves (bounded) once the hub has logged the events, or with false if it has not yet. */
  logged: Promise<boolean>;
  /** Everything after: retries, the acknowledgement, the marker; hand it to `waitUntil`. */
  settled: Promise<void>;
}

/**
 * After a change committed with its outbox rows, from the Worker: publishes to the account's hub.
 * The caller answers once `logged` resolves (the change is in the hub's log; the fan-out happens
 * after the hub has answered). A failed publish is retried from `waitUntil` with backoff; if it
 * still fails, the account is marked in the outbox marker, and the rare cron redelivers it. Then
 * the account's rows that an earlier request left behind (a Worker that died between commit and
 * publish) are swept, at most once per interval per isolate, while the database is awake anyway.
 */
export function publishAfterCommit(
  env: Env,
  db: Db,
  accountId: string,
  events: HubEvent[],
  redeliverAfterSeconds: number,
): Delivery {
  if (events.length === 0) return { logged: Promise.resolve(true), settled: Promise.resolve() };
  const publish = toAccountHub(env, accountId);
  const first = tryPublish(accountId, events, publish);
  const logged = Promise.race([first, sleep(FIRST_PUBLISH_TIMEOUT_MS).then(() => false)]);
  const settled = (async () => {
    let ok = await first;
    for (const delay of RETRY_DELAYS_MS) {
      if (ok) break;
      await sleep(delay);
      ok = await tryPublish(accountId, events, publish);
    }
    if (ok) await acknowledge(db, accountId, events);
    else await markPending(env, accountId);
    await sweepAccount(env, db, accountId, redeliverAfterSeconds);
  })();
  return { logged, settled };
}

/** What a request hands to `publishFromRequest` (a Hono context of the app has it). */
export interface RequestScope {
  env: Env;
  var: {
    identity: { accountId: string };
    config: { OUTBOX_REDELIVER_AFTER_SECONDS: number };
    afterResponse(work: Promise<unknown>): void;
  };
}

/**
 * `publishAfterCommit` from a request: the answer waits until the hub has logged (or acted on) the
 * events, bounded (the outbox guarantees delivery anyway), not for the fan-out, which the hub does
 * after answering; retries, the acknowledgement and the marker continue after the response.
 */
export async function publishFromRequest(c: RequestScope, db: Db, events: HubEvent[]): Promise<void> {
  const delivery = publishAfterCommit(
    c.env,
    db,
    c.var.identity.accountId,
    events,
    c.var.config.OUTBOX_REDELIVER_AFTER_SECONDS,
  );
  c.var.afterResponse(delivery.settled);
  await delivery.logged;
}

/** Records that an account has undelivered outbox rows (where the cron looks before Postgres). */
async function markPending(env: Env, accountId: string): Promise<void> {
  try {
    await outboxMarker(env).mark(accountId);
    log('warn', 'publish after commit failed after retries; marked for the outbox relay', { accountId });
  } catch (err) {
    // The rows stay pending; the account's next write or queue read sweeps them.
    log('error', 'outbox marker unreachable; the next sweep of the account delivers', { accountId, err });
  }
}

/** When this isolate last swept each account's outbox. */
const lastSweep = new Map<string, number>();
const MAX_SWEEP_ENTRIES = 10_000;

/**
 * Publishes the account's outbox rows older than `olderThanSeconds` that were never acknowledged,
 * at most once per that interval (and per isolate). Called where the database is open anyway: a
 * write's delivery and the queue snapshot.
 */
export async function sweepAccount(
  env: Env,
  db: Db,
  accountId: string,
  olderThanSeconds: number,
  now = Date.now(),
): Promise<{ published: number; failed: number }> {
  const every = Math.max(1, olderThanSeconds) * 1000;
  if (now - (lastSweep.get(accountId) ?? 0) < every) return { published: 0, failed: 0 };
  if (lastSweep.size >= MAX_SWEEP_ENTRIES) lastSweep.clear();
  lastSweep.set(accountId, now);
  try {
    return await relayOutbox(env, db, olderThanSeconds, { accountIds: [accountId], limit: 100 });
  } catch (err) {
    log('warn', 'outbox sweep failed; a later one retries', { accountId, err });
    return { published: 0, failed: 0 };
  }
}

/** `deliverCommitted` from the Worker, to the account's hub. */
export const publishCommitted = (env: Env, db: Db, accountId: string, events: HubEvent[]) =>
  deliverCommitted(db, accountId, events, toAccountHub(env, accountId));

/**
 * Re-publishes outbox rows older than `olderThanSeconds` that were never acknowledged, of the
 * given accounts (or all). Rows that keep failing (an account whose hub is down) sink behind fresh
 * ones, so one broken account cannot starve the others' redelivery.
 */
export async function relayOutbox(
  env: Env,
  db: Db,
  olderThanSeconds: number,
  opts: { accountIds?: string[]; limit?: number } = {},
) {
  const rows = await db
    .select()
    .from(outbox)
    .where(
      and(
        isNull(outbox.publishedAt),
        lt(outbox.createdAt, sql`now() - make_interval(secs => ${olderThanSeconds})`),
        opts.accountIds ? inArray(outbox.accountId, opts.accountIds) : undefined,
      ),
    )
    .orderBy(asc(outbox.attempts), asc(outbox.createdAt))
    .limit(opts.limit ?? 500);
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
