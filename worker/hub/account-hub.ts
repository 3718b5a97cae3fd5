import { DurableObject } from 'cloudflare:workers';
import { getConfig } from '../config';
import type { EscalationCard } from '../contract/events';
import { isDatabaseError, openDb } from '../db/client';
import { assessHandoff, failAssessment } from '../escalations/assessment';
import { loadCard } from '../escalations/cards';
import { log } from '../lib/log';
import { providerFromConfig } from '../providers/from-config';
import { LlmError } from '../providers/llm-provider';
import {
  type CancelRunResult,
  type ResumeRunResult,
  type RunLimits,
  RunManager,
  type RunSnapshot,
  type StartRunRequest,
  type StartRunResult,
} from '../runs/run-manager';
import { EventLog } from './event-log';
import { backoffMs, type Job, JobQueue } from './job-queue';

/** An event to log on a topic, de-duplicated by `key` (the outbox row id for card changes). */
export interface HubEvent {
  key: string;
  topic: string;
  type: string;
  data: unknown;
}

const ESCALATIONS = 'escalations';
const PURGE_EVERY_MS = 60 * 60_000;
const ASSESS_ATTEMPTS = 4;
// Frames are sent to the Worker in batches up to this size: a long replay is a few large
// messages rather than thousands of small ones.
const REPLAY_BATCH_BYTES = 64 * 1024;

/**
 * One per account: the escalation bus and the run-state holder. Its SQLite keeps the append-only
 * event log per topic, the job table the alarm drains and (for runs) the registry and checkpoints.
 * Subscribers are hibernatable WebSockets from the Worker, tagged by topic, so between events the
 * hub can sleep while dashboards stay connected.
 */
export class AccountHub extends DurableObject<Env> {
  private readonly events: EventLog;
  private readonly jobs: JobQueue;
  private readonly runs: RunManager;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.events = new EventLog(ctx.storage.sql);
    this.jobs = new JobQueue(ctx.storage.sql);
    this.runs = new RunManager({
      ctx,
      env,
      events: this.events,
      jobs: this.jobs,
      broadcast: (topic, frame) => this.broadcast(topic, frame),
      armAlarm: () => this.armAlarm(),
    });
    ctx.blockConcurrencyWhile(async () => {
      EventLog.migrate(ctx.storage.sql);
      JobQueue.migrate(ctx.storage.sql);
      RunManager.migrate(ctx.storage.sql);
      await this.runs.recover();
    });
  }

  // ── publishing ────────────────────────────────────────────────────────────────────────────

  /**
   * Logs each event (ids stored before anything is sent), then sends it to the topic's
   * subscribers. An event whose key was seen before is not logged or sent again.
   */
  async publish(accountId: string, events: HubEvent[]): Promise<{ ids: number[]; duplicates: number }> {
    const now = Date.now();
    const results = this.ctx.storage.transactionSync(() =>
      events.map((e) => {
        const appended = this.events.append(e.topic, e.type, e.data, e.key, now);
        if (!appended.duplicate && e.type === 'escalation.created') {
          const card = (e.data as { card: EscalationCard }).card;
          this.jobs.enqueue(`assess:${card.id}`, 'assess', { accountId, handoffId: card.id }, now);
        }
        if (!appended.duplicate && e.topic === ESCALATIONS) {
          this.jobs.enqueue(`purge:${ESCALATIONS}`, 'purge', { topic: ESCALATIONS }, now + PURGE_EVERY_MS);
        }
        return { ...appended, topic: e.topic };
      }),
    );
    for (const r of results) if (!r.duplicate) this.broadcast(r.topic, r.frame);
    await this.armAlarm();
    return { ids: results.map((r) => r.id), duplicates: results.filter((r) => r.duplicate).length };
  }

  private broadcast(topic: string, frame: string): void {
    for (const ws of this.ctx.getWebSockets(topic)) {
      try {
        ws.send(frame);
      } catch {
        // A socket that is closing cannot be sent to; its close handler cleans up.
      }
    }
  }

  lastEventId(topic: string): number {
    return this.events.lastId(topic);
  }

  subscriberCount(topic: string): number {
    return this.ctx.getWebSockets(topic).length;
  }

  // ── graph runs (worker/runs/run-manager.ts) ──────────────────────────────────────────────

  startRun(req: StartRunRequest): Promise<StartRunResult> {
    return this.runs.start(req);
  }

  resumeRun(runId: string, input: unknown, limits: RunLimits): Promise<ResumeRunResult> {
    return this.runs.resume(runId, input, limits);
  }

  cancelRun(runId: string): Promise<CancelRunResult> {
    return this.runs.cancel(runId);
  }

  runSnapshot(runId: string): RunSnapshot | null {
    return this.runs.snapshot(runId);
  }

  // ── subscribing ───────────────────────────────────────────────────────────────────────────

  /**
   * WebSocket upgrades only (everything else is RPC). Replay and accept happen in one synchronous
   * stretch, so no publish can fall between them: no gap, no duplicate.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    const url = new URL(request.url);
    const topic = url.searchParams.get('topic');
    const afterParam = url.searchParams.get('after');
    if (!topic || (afterParam !== null && !/^\d+$/.test(afterParam))) {
      return new Response('topic and a numeric after are required', { status: 400 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [topic]);
    if (afterParam !== null) {
      const start = this.events.replayAfter(topic, Number(afterParam));
      if (start.kind === 'reset') server.send(start.frame);
      else {
        let batch = '';
        for (const frame of start.frames) {
          if (batch.length + frame.length > REPLAY_BATCH_BYTES && batch) {
            server.send(batch);
            batch = '';
          }
          batch += frame;
        }
        if (batch) server.send(batch);
      }
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(): Promise<void> {
    // Subscribers only listen; anything they send is ignored.
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  // ── jobs ──────────────────────────────────────────────────────────────────────────────────

  private async armAlarm(): Promise<void> {
    const next = this.jobs.nextRunAt();
    if (next === undefined) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }

  /** Drains due jobs; each job records its own completion or retry, so a re-run is harmless. */
  override async alarm(): Promise<void> {
    for (const job of this.jobs.due(Date.now())) {
      try {
        await this.runJob(job);
      } catch (err) {
        log('error', 'hub job failed', { kind: job.kind, id: job.id, err });
        this.jobs.retry(job.id, Date.now() + backoffMs(job.attempts), String(err));
      }
    }
    const next = this.jobs.nextRunAt();
    if (next !== undefined) await this.ctx.storage.setAlarm(Math.max(next, Date.now() + 10));
  }

  private async runJob(job: Job): Promise<void> {
    switch (job.kind) {
      case 'assess':
        return this.assess(job);
      case 'purge': {
        const config = getConfig(this.env);
        const { topic } = job.payload as { topic: string };
        this.events.purge(
          topic,
          config.ESCALATION_RETENTION_DAYS * 86_400_000,
          config.ESCALATION_RETENTION_EVENTS,
        );
        this.jobs.upsert(job.id, job.kind, job.payload, Date.now() + PURGE_EVERY_MS);
        return;
      }
      case 'run':
      case 'run-deadline':
      case 'run-sync':
      case 'run-purge':
        return this.runs.runJob(job);
      default:
        log('warn', 'unknown hub job dropped', { kind: job.kind });
        this.jobs.complete(job.id);
    }
  }

  /**
   * The AI assessment, off the request path. Provider failures are retried with backoff and
   * end as `failed` with a reason; an unreachable database is retried until it is back, since
   * nothing can be recorded without it.
   */
  private async assess(job: Job): Promise<void> {
    const { accountId, handoffId } = job.payload as { accountId: string; handoffId: string };
    const config = getConfig(this.env);
    const { db, close } = openDb(config);
    try {
      let outcome = await assessHandoff(db, providerFromConfig(config, this.env), accountId, handoffId).catch(
        async (err: unknown) => {
          if (isDatabaseError(err)) throw err;
          const retryable = err instanceof LlmError ? err.retryable : true;
          if (retryable && job.attempts + 1 < ASSESS_ATTEMPTS) throw err;
          const reason = err instanceof Error ? err.message : String(err);
          log('warn', 'assessment failed', { handoffId, attempts: job.attempts + 1, reason });
          return failAssessment(db, accountId, handoffId, `assessment failed: ${reason}`);
        },
      );
      if (outcome.kind === 'already_done') {
        // Stored by an earlier attempt that stopped before publishing: publish it now (the key
        // makes a second publish a no-op).
        const card = await loadCard(db, accountId, handoffId);
        outcome = card ? { kind: 'assessed', card } : { kind: 'missing' };
      }
      if (outcome.kind === 'assessed') {
        await this.publish(accountId, [
          {
            key: `assessed:${handoffId}`,
            topic: ESCALATIONS,
            type: 'escalation.assessed',
            data: { card: outcome.card, version: outcome.card.version },
          },
        ]);
      }
      this.jobs.complete(job.id);
    } finally {
      this.ctx.waitUntil(close());
    }
  }
}
