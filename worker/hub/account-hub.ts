import { DurableObject } from 'cloudflare:workers';
import { getConfig } from '../config';
import type { EscalationCard } from '../contract/events';
import { isDatabaseError, openDb } from '../db/client';
import { assessHandoff, failAssessment } from '../escalations/assessment';
import { loadCard } from '../escalations/cards';
import { log, safeErrorMessage } from '../lib/log';
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
import { REPLAY_MORE, REPLAY_MORE_REQUEST } from '../streams/replay-protocol';
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
const JOB_CONCURRENCY = 8;
const DEFAULT_PAGE_BYTES = 256 * 1024;
const MAX_PAGE_BYTES = 512 * 1024;

/**
 * What the hub remembers about each subscriber socket (as its attachment, so it survives
 * hibernation): where its replay has reached and whether it is live yet.
 */
interface Subscriber {
  topic: string;
  cursor: number;
  live: boolean;
  pageBytes: number;
}

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

  /**
   * Sends a new frame to the topic's live subscribers. One still catching up is skipped: the
   * frame is already in the log, and its next page will carry it, in order.
   */
  private broadcast(topic: string, frame: string): void {
    for (const ws of this.ctx.getWebSockets(topic)) {
      const sub = ws.deserializeAttachment() as Subscriber | null;
      if (sub && !sub.live) continue;
      this.send(ws, frame);
    }
  }

  private send(ws: WebSocket, text: string): void {
    try {
      ws.send(text);
    } catch {
      // A frame that cannot be sent must not leave a silent gap: close, and the client resumes
      // by Last-Event-ID.
      try {
        ws.close(1011, 'send failed');
      } catch {
        // already closed
      }
    }
  }

  /**
   * Sends the subscriber's next replay page. At the end of the log it goes live; otherwise the
   * page ends with the `more` marker and the Worker asks for the next page once its client has
   * drained enough, so a replay is paced by the client instead of loaded whole into memory.
   */
  private sendPage(ws: WebSocket, sub: Subscriber): void {
    const page = this.events.page(sub.topic, sub.cursor, sub.pageBytes);
    const next: Subscriber = { ...sub, cursor: page.lastId, live: page.done };
    ws.serializeAttachment(next);
    this.send(ws, page.done ? page.text : `${page.text}${REPLAY_MORE}`);
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
    const pageParam = url.searchParams.get('page');
    if (
      !topic ||
      (afterParam !== null && !/^\d+$/.test(afterParam)) ||
      (pageParam !== null && !/^\d+$/.test(pageParam))
    ) {
      return new Response('topic, and numeric after and page, are required', { status: 400 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [topic]);
    const pageBytes = Math.min(MAX_PAGE_BYTES, Math.max(1024, Number(pageParam ?? DEFAULT_PAGE_BYTES)));
    const lastId = this.events.lastId(topic);
    if (afterParam === null) {
      server.serializeAttachment({ topic, cursor: lastId, live: true, pageBytes } satisfies Subscriber);
    } else {
      const after = Number(afterParam);
      const point = this.events.resumePoint(topic, after);
      if (point.kind === 'reset') {
        server.serializeAttachment({
          topic,
          cursor: point.lastId,
          live: true,
          pageBytes,
        } satisfies Subscriber);
        server.send(point.frame);
      } else {
        this.sendPage(server, { topic, cursor: after, live: false, pageBytes });
      }
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The only message a subscriber sends: `more`, for the next replay page. */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (message !== REPLAY_MORE_REQUEST) return;
    const sub = ws.deserializeAttachment() as Subscriber | null;
    if (sub && !sub.live) this.sendPage(ws, sub);
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

  /**
   * Drains due jobs; each records its own completion or retry, so a re-run is harmless. They run
   * side by side: a slow one (an LLM call, a Postgres that hangs until its timeout) must not hold
   * back a run's deadline that is due in the same alarm.
   */
  override async alarm(): Promise<void> {
    const due = this.jobs.due(Date.now());
    // A few at a time: each may hold a database connection.
    const worker = async () => {
      for (let job = due.shift(); job; job = due.shift()) {
        try {
          await this.runJob(job);
        } catch (err) {
          log('error', 'hub job failed', { kind: job.kind, id: job.id, err });
          this.jobs.retry(job.id, Date.now() + backoffMs(job.attempts), safeErrorMessage(err));
        }
      }
    };
    await Promise.all(Array.from({ length: JOB_CONCURRENCY }, worker));
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
