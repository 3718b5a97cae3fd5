import { type Config, getConfig } from '../config';
import type { CardData, EscalationCard } from '../contract/events';
import { ACTIVE_HANDOFF_STATUSES, isOneOf } from '../contract/statuses';
import { isDatabaseError, openDb, withDb } from '../db/client';
import type { Hub, HubModule, LoggedEvent } from '../hub/hub-module';
import type { Job } from '../hub/job-queue';
import { log } from '../lib/log';
import { LlmError, type LlmProvider } from '../providers/llm-provider';
import { assessHandoff, assessmentProvider, failAssessment } from './assessment';
import { fireTimers } from './clock-store';
import { TIMER_JOB_KIND, type TimerPayload, timersOf } from './clock-timers';
import { pruneEscalationRows } from './escalation-retention';
import { deliverCommitted } from './outbox';
import { ESCALATIONS_TOPIC } from './topic';

/** Attempts before a provider failure ends the assessment as `failed`. */
const ASSESS_ATTEMPTS = 4;
/** How often the escalation log's retention runs while events arrive. */
const PURGE_EVERY_MS = 60 * 60_000;
/** How long the hub remembers a closed card's last version (to ignore its late, older events). */
const CLOSED_CARD_MEMORY_MS = 24 * 60 * 60_000;
/** A timer that could not reach Postgres tries again soon: it is late already. */
const timerRetryMs = (attempts: number) => Math.min(60_000, 1_000 * 2 ** attempts);
/** How often, at most, the account's old Postgres rows are pruned (see `prunePostgres`). */
const PRUNE_POSTGRES_EVERY_MS = 60 * 60_000;
/** When `prune-postgres` was last scheduled, in the hub's synchronous key-value storage. */
const PRUNED_AT_KEY = 'escalations:prune-postgres-at';

interface AssessPayload {
  accountId: string;
  handoffId: string;
}

/**
 * Escalations inside the hub: every new card gets its AI assessment from a job (never on the
 * request's path); every card's clocks and re-escalations are durable timers in the job table,
 * armed from the card each event carries; the escalation log is trimmed to its retention. The
 * cards themselves live in Postgres; their events arrive through the outbox
 * (worker/escalations/outbox.ts).
 * `provider` chooses who assesses (default: `assessmentProvider`, from the configuration); a test
 * of the module alone may hand it a provider at the edge (an HTTP server on loopback).
 */
export function escalationsModule(
  hub: Hub,
  opts: { provider?: (config: Config, env: object) => LlmProvider | null } = {},
): HubModule {
  const providerOf = opts.provider ?? assessmentProvider;
  /**
   * Arms and drops the card's timers from its newest state. Events can reach the log out of
   * order (the outbox relay delivers a failed publish later), so an older version than one
   * already seen changes nothing.
   */
  function armTimers(card: EscalationCard, at: number): void {
    const seen = hub.sql
      .exec<{ version: number }>('select version from escalation_cards where card_id = ?', card.id)
      .toArray()[0];
    if (seen && seen.version >= card.version) return;
    const closed = !isOneOf(ACTIVE_HANDOFF_STATUSES, card.status);
    hub.sql.exec(
      `insert into escalation_cards (card_id, version, closed_at) values (?, ?, ?)
       on conflict (card_id) do update set version = excluded.version, closed_at = excluded.closed_at`,
      card.id,
      card.version,
      closed ? at : null,
    );
    const { arm, drop } = timersOf(card);
    for (const id of drop) hub.jobs.complete(id);
    for (const timer of arm) {
      // The same timer already armed (perhaps retrying after a failure) keeps its own time.
      const current = hub.jobs.get(timer.id);
      if (current && JSON.stringify(current.payload) === JSON.stringify(timer.payload)) continue;
      hub.jobs.upsert(timer.id, TIMER_JOB_KIND, timer.payload, timer.runAt);
    }
  }

  /**
   * Due clock timers, in one Postgres transaction: each card's change, timeline row and outbox
   * row; then published through the outbox path. A second timer of a card in the same batch waits
   * for the next alarm (one change per card per transaction, each with its own version). A
   * Postgres that cannot be reached throws: the host retries the batch, late rather than never.
   */
  async function runTimers(jobs: Job[]): Promise<void> {
    const cards = new Set<string>();
    const batch = jobs.filter((job) => {
      const { handoffId } = job.payload as TimerPayload;
      if (cards.has(handoffId)) return false;
      cards.add(handoffId);
      return true;
    });
    const { db, close } = openDb(getConfig(hub.env));
    try {
      const events = await fireTimers(
        db,
        hub.name,
        batch.map((job) => job.payload as TimerPayload),
      );
      // Committed: done, before publishing (whose hooks may re-arm the same ids, e.g. the next level).
      for (const job of batch) hub.jobs.complete(job.id, job);
      // The publish into the log starts at once; its acknowledgement in Postgres need not hold
      // back the next batch of a thousand timers due together.
      hub.waitUntil(deliverCommitted(db, hub.name, events, (list) => hub.publish(list)).finally(close));
    } catch (err) {
      hub.waitUntil(close());
      throw err;
    }
  }

  /**
   * The AI assessment. Provider failures are retried with backoff and end as `failed` with a
   * reason; an unreachable database is retried until it is back, since nothing can be recorded
   * without it. The assessed card is published like every other change: through the outbox.
   */
  async function assess(job: Job): Promise<void> {
    const { accountId, handoffId } = job.payload as AssessPayload;
    const config = getConfig(hub.env);
    await withDb(
      config,
      (work) => hub.waitUntil(work),
      async (db) => {
        const outcome = await assessHandoff(db, providerOf(config, hub.env), accountId, handoffId).catch(
          async (err: unknown) => {
            if (isDatabaseError(err)) throw err;
            const retryable = err instanceof LlmError ? err.retryable : true;
            if (retryable && job.attempts + 1 < ASSESS_ATTEMPTS) throw err;
            // A provider's error is written for users; anything else stays in the log, under a reference.
            const reference = crypto.randomUUID();
            const reason =
              err instanceof LlmError
                ? err.message
                : `an internal error (the log has it under reference ${reference})`;
            log('warn', 'assessment failed', { handoffId, attempts: job.attempts + 1, reference, err });
            return failAssessment(db, accountId, handoffId, `assessment failed: ${reason}`);
          },
        );
        // `already_done`: stored by an earlier attempt whose publish did not happen; its outbox row
        // is still unacknowledged, so the relay delivers it.
        if (outcome.kind === 'assessed') {
          await deliverCommitted(db, accountId, [outcome.event], (events) => hub.publish(events));
        }
        hub.jobs.complete(job.id);
      },
    );
  }

  function purge(job: Job): void {
    const config = getConfig(hub.env);
    const { topic } = job.payload as { topic: string };
    hub.events.purge(
      topic,
      config.ESCALATION_RETENTION_DAYS * 86_400_000,
      config.ESCALATION_RETENTION_EVENTS,
    );
    hub.sql.exec(
      'delete from escalation_cards where closed_at is not null and closed_at < ?',
      Date.now() - CLOSED_CARD_MEMORY_MS,
    );
    hub.jobs.upsert(job.id, job.kind, job.payload, Date.now() + PURGE_EVERY_MS);
  }

  /**
   * Prunes the account's old outbox rows and Idempotency-Keys (escalation-retention.ts). Scheduled
   * only by a published escalation event, whose publisher has just written to Postgres: it never
   * wakes the database of an idle account. A failure is not retried on a timer either; the next
   * event after the interval tries again.
   */
  async function prunePostgres(job: Job): Promise<void> {
    await withDb(
      getConfig(hub.env),
      (work) => hub.waitUntil(work),
      async (db) => {
        try {
          const pruned = await pruneEscalationRows(db, hub.name);
          if (pruned.outbox + pruned.idempotencyKeys > 0)
            log('info', 'escalation rows pruned', { ...pruned });
        } catch (err) {
          log('warn', 'escalation rows not pruned; the next activity tries again', { err });
        }
      },
    );
    hub.jobs.complete(job.id);
  }

  return {
    name: 'escalations',
    // Cards live in Postgres; the hub keeps only the newest version it has seen of each.
    migrations: [
      (sql) => {
        sql.exec(`create table if not exists escalation_cards (
          card_id text primary key,
          version integer not null,
          closed_at integer
        )`);
      },
    ],
    jobs: {
      assess: { run: assess },
      purge: { run: purge },
      [TIMER_JOB_KIND]: { run: (job) => runTimers([job]), runBatch: runTimers, retryDelayMs: timerRetryMs },
      'prune-postgres': { run: prunePostgres },
    },
    onPublished(event: LoggedEvent) {
      if (event.topic !== ESCALATIONS_TOPIC) return;
      const card = (event.data as Partial<CardData>).card;
      // Cards published before clocks existed (an old outbox row) carry none to arm.
      if (card?.sla) armTimers(card, event.at);
      if (event.type === 'escalation.created') {
        const { card } = event.data as { card: { id: string } };
        const payload: AssessPayload = { accountId: hub.name, handoffId: card.id };
        hub.jobs.enqueue(`assess:${card.id}`, 'assess', payload, event.at);
      }
      hub.jobs.enqueue(
        `purge:${ESCALATIONS_TOPIC}`,
        'purge',
        { topic: ESCALATIONS_TOPIC },
        event.at + PURGE_EVERY_MS,
      );
      const prunedAt = hub.storage.kv.get<number>(PRUNED_AT_KEY);
      if (prunedAt === undefined || event.at - prunedAt >= PRUNE_POSTGRES_EVERY_MS) {
        hub.storage.kv.put(PRUNED_AT_KEY, event.at);
        hub.jobs.enqueue('prune-postgres', 'prune-postgres', {}, event.at);
      }
    },
  };
}
