import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';
import { TERMINAL_RUN_EVENTS } from '../contract/events';
import { isTerminalStatus } from '../contract/run-status';
import type { Db } from '../db/client';
import { graphs, type RunRow, runStatusEnum, runs } from '../db/schema';
import type { Graph } from '../graphs/graph-schema';
import { hubFor } from '../hub/hub-client';
import type { AppEnv } from '../lib/app-env';
import { requireRole } from '../lib/auth';
import { ApiError, notFound } from '../lib/errors';
import { log } from '../lib/log';
import { afterCursor, decodeCursor, newestFirst, page, pageQuery } from '../lib/pagination';
import { sseFrame } from '../lib/sse-frame';
import { validate } from '../lib/validate';
import { endRunInPostgres, isLost } from '../runs/run-records';
import type {
  CancelRunResult,
  LimitRefusal,
  ResumeRunResult,
  RunLimits,
  RunSnapshot,
  StartRunResult,
} from '../runs/run-types';
import { runTopic } from '../runs/run-types';
import { runJson, terminalEventOf } from '../runs/run-view';
import { hubStream, lastEventIdOf } from '../streams/hub-stream';
import { type FrameSource, sseResponse } from '../streams/sse-response';
import { idParam, uuidParam } from './params';

const startBody = z.strictObject({
  // The run's initial state.
  input: z.record(z.string(), z.json()).default({}),
});

const resumeBody = z.strictObject({
  // Any JSON, null included; stored under the paused node's output_key.
  input: z.json({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be JSON') }),
});

const listQuery = pageQuery.extend({
  status: z.enum(runStatusEnum.enumValues).optional(),
  graph_id: uuidParam.optional(),
});

const writers = requireRole('engineer', 'admin');

const limitsOf = (c: Context<AppEnv>): RunLimits => ({
  perUser: c.var.config.MAX_RUNS_PER_KEY,
  perAccount: c.var.config.MAX_RUNS_PER_ACCOUNT,
});

/** The hub is a dependency like Postgres: when it cannot be reached the answer is a 503. */
async function hubCall<T>(what: string, fn: () => Promise<unknown>): Promise<T> {
  try {
    // RPC stubs wrap results in Disposable promise types; the plain result type is what arrives.
    return (await fn()) as T;
  } catch (err) {
    log('warn', 'account hub call failed', { what, err });
    throw new ApiError(503, 'hub_unavailable', 'the account hub is unavailable; try again', undefined, {
      'Retry-After': '2',
    });
  }
}

function tooMany(refusal: LimitRefusal): ApiError {
  const who = refusal.scope === 'user' ? 'you have' : 'this account has';
  return new ApiError(
    429,
    'too_many_runs',
    `${who} ${refusal.limit} active runs, the limit (MAX_RUNS_PER_${refusal.scope === 'user' ? 'KEY' : 'ACCOUNT'}); paused runs do not count`,
    { scope: refusal.scope, limit: refusal.limit },
    { 'Retry-After': String(refusal.retryAfterSeconds) },
  );
}

async function loadRun(c: Context<AppEnv>, id: string): Promise<{ db: Db; row: RunRow }> {
  const db = await c.var.db();
  const [row] = await db
    .select()
    .from(runs)
    .where(and(eq(runs.id, id), eq(runs.accountId, c.var.identity.accountId)));
  if (!row) throw notFound('run');
  return { db, row };
}

/**
 * The run's current view: Postgres, overlaid with the hub's registry while the hub has it. A
 * live row the hub does not know, silent for longer than its timeout, is ended as `lost`.
 */
async function currentView(c: Context<AppEnv>, db: Db, row: RunRow, askHubWhenEnded = false) {
  if (isTerminalStatus(row.status) && !askHubWhenEnded) return { view: runJson(row), live: null };
  let live: RunSnapshot | null | undefined;
  try {
    live = (await hubFor(c.env, row.accountId).runSnapshot(row.id)) as RunSnapshot | null;
  } catch (err) {
    // Postgres still answers; the view is as of the last transition it recorded.
    log('warn', 'run snapshot unavailable', { runId: row.id, err });
    live = undefined;
  }
  if (live === null && isLost(row)) {
    const ended = await endRunInPostgres(
      db,
      row,
      'failed',
      'lost',
      'the run was lost: its hub has no record of it and it outlived its timeout',
    );
    if (ended) return { view: runJson(ended), live: null };
    const [again] = await db.select().from(runs).where(eq(runs.id, row.id));
    return { view: runJson(again ?? row), live: null };
  }
  return { view: runJson(row, live), live: live ?? null };
}

/** A stream that sends one frame and closes: a finished run's terminal event. */
function oneFrame(frame: string): FrameSource {
  let emit: ((text: string, more: boolean) => void) | undefined;
  let ended: (() => void) | undefined;
  let closed = false;
  queueMicrotask(() => {
    if (closed) return;
    emit?.(frame, false);
    ended?.();
  });
  return {
    onFrames: (listener) => {
      emit = listener;
    },
    onEnd: (listener) => {
      ended = listener;
    },
    requestMore: () => {},
    close: () => {
      closed = true;
    },
  };
}

export const runRoutes = new Hono<AppEnv>()
  .post('/graphs/:id/run', writers, validate('param', idParam), validate('json', startBody), async (c) => {
    const { id: graphId } = c.req.valid('param');
    const { input } = c.req.valid('json');
    const who = c.var.identity;
    const config = c.var.config;
    const db = await c.var.db();
    const [graph] = await db
      .select()
      .from(graphs)
      .where(and(eq(graphs.id, graphId), eq(graphs.accountId, who.accountId)));
    if (!graph) throw notFound('graph');
    const [row] = await db
      .insert(runs)
      .values({
        accountId: who.accountId,
        graphId,
        graphVersion: graph.version,
        startedBy: who.userId,
        input,
        runTimeoutSeconds: config.RUN_TIMEOUT_SECONDS,
        pauseTimeoutSeconds: config.PAUSE_TIMEOUT_SECONDS,
      })
      .returning();
    if (!row) throw new Error('run insert returned no row');
    const hub = hubFor(c.env, who.accountId);
    let result: StartRunResult;
    try {
      result = (await hub.startRun({
        runId: row.id,
        accountId: who.accountId,
        userId: who.userId,
        graphId,
        graphVersion: graph.version,
        graph: graph.schema as Graph,
        input,
        limits: limitsOf(c),
        runTimeoutSeconds: config.RUN_TIMEOUT_SECONDS,
        pauseTimeoutSeconds: config.PAUSE_TIMEOUT_SECONDS,
      })) as StartRunResult;
    } catch (err) {
      log('warn', 'hub refused to start a run', { runId: row.id, err });
      // The call may have failed after the hub committed the run (the answer was lost): ask it.
      // If it has the run, the start worked, and answering 503 would make the client start a
      // duplicate while this one runs.
      const live = await (hub.runSnapshot(row.id) as Promise<RunSnapshot | null>).catch(() => undefined);
      if (!live) {
        // Not started (or the hub cannot say). If it did start after all, its first transition
        // (a newer version) overwrites this.
        await endRunInPostgres(
          db,
          row,
          'failed',
          'internal',
          'the account hub could not start the run',
        ).catch(() => {});
        throw new ApiError(503, 'hub_unavailable', 'the account hub is unavailable; try again', undefined, {
          'Retry-After': '2',
        });
      }
      result = { ok: true, status: live.status };
    }
    if (!result.ok && result.reason === 'cancelled') {
      // Cancelled before the hub saw the start: the run exists, and ended. The canceller marks
      // the row too; doing it here as well covers a canceller that stopped half-way.
      await endRunInPostgres(db, row, 'cancelled', 'cancelled', 'cancelled by a user').catch(() => {});
      result = { ok: true, status: 'cancelled' };
    }
    if (!result.ok) {
      // Not started: the row goes, as if the request had never been made.
      await db.delete(runs).where(and(eq(runs.id, row.id), eq(runs.hubVersion, 0)));
      if (result.reason === 'limit') throw tooMany(result);
      throw new ApiError(409, 'conflict', 'the run already exists');
    }
    const statusUrl = `/v1/runs/${row.id}/status`;
    return c.json(
      {
        run_id: row.id,
        status: result.status,
        stream_url: `/v1/runs/${row.id}/stream`,
        status_url: statusUrl,
      },
      202,
      { Location: statusUrl },
    );
  })
  .get('/runs', validate('query', listQuery), async (c) => {
    const { limit, cursor, status, graph_id } = c.req.valid('query');
    const after = decodeCursor(cursor);
    const db = await c.var.db();
    const rows = await db
      .select()
      .from(runs)
      .where(
        and(
          eq(runs.accountId, c.var.identity.accountId),
          status ? eq(runs.status, status) : undefined,
          graph_id ? eq(runs.graphId, graph_id) : undefined,
          afterCursor(runs, after),
        ),
      )
      .orderBy(...newestFirst(runs))
      .limit(limit + 1);
    const { items, nextCursor } = page(rows, limit);
    return c.json({ items: items.map((r) => runJson(r)), next_cursor: nextCursor });
  })
  .get('/runs/:id/status', validate('param', idParam), async (c) => {
    const { db, row } = await loadRun(c, c.req.valid('param').id);
    return c.json((await currentView(c, db, row)).view);
  })
  .get('/runs/:id/stream', writers, validate('param', idParam), async (c) => {
    const after = lastEventIdOf(c);
    const { db, row } = await loadRun(c, c.req.valid('param').id);
    const { view, live } = await currentView(c, db, row, true);
    const topic = runTopic(row.id);
    // Without Last-Event-ID a run stream starts at the run's first event.
    const from = after ?? 0;
    if (isTerminalStatus(view.status) && (!live || live.last_event_id <= from)) {
      // Finished, and its log is gone (or the client has all of it): the terminal event from the
      // record, then close.
      const terminal = terminalEventOf(view);
      const frame = sseFrame(terminal.type, terminal.data, live ? live.last_event_id : undefined);
      const config = c.var.config;
      return sseResponse(oneFrame(frame), {
        retryMs: config.SSE_RETRY_MS,
        keepaliveMs: config.SSE_KEEPALIVE_MS,
        bufferBytes: config.SSE_BUFFER_BYTES,
        closeAfter: TERMINAL_RUN_EVENTS,
      });
    }
    return hubStream(c, topic, from, { closeAfter: TERMINAL_RUN_EVENTS });
  })
  .post('/runs/:id/resume', writers, validate('param', idParam), validate('json', resumeBody), async (c) => {
    const { input } = c.req.valid('json');
    const { row } = await loadRun(c, c.req.valid('param').id);
    const result = await hubCall<ResumeRunResult>('resumeRun', () =>
      hubFor(c.env, row.accountId).resumeRun(row.id, input, limitsOf(c)),
    );
    if (result.ok) {
      return c.json({ run_id: row.id, status: result.status, stream_url: `/v1/runs/${row.id}/stream` }, 202);
    }
    if (result.reason === 'limit') throw tooMany(result);
    const status = result.reason === 'not_paused' ? result.status : row.status;
    throw new ApiError(
      409,
      'not_paused',
      `the run is ${status.replace('_', ' ')}; only a paused run can be resumed`,
      {
        status,
      },
    );
  })
  .post('/runs/:id/cancel', writers, validate('param', idParam), async (c) => {
    const { db, row } = await loadRun(c, c.req.valid('param').id);
    if (isTerminalStatus(row.status)) {
      throw new ApiError(409, 'run_ended', `the run already ended (${row.status})`, { status: row.status });
    }
    const result = await hubCall<CancelRunResult>('cancelRun', () =>
      hubFor(c.env, row.accountId).cancelRun(row.id),
    );
    if (result.ok) return c.json({ run_id: row.id, status: result.status }, 202);
    if (result.reason === 'ended') {
      throw new ApiError(409, 'run_ended', `the run already ended (${result.status})`, {
        status: result.status,
      });
    }
    // The hub has no record of it (never accepted, or lost). It has recorded a tombstone for the
    // id, so a start still on its way is refused and the run cannot come back: end it in Postgres.
    const ended = await endRunInPostgres(db, row, 'cancelled', 'cancelled', 'cancelled by a user');
    if (!ended) throw new ApiError(409, 'run_ended', 'the run already ended');
    return c.json({ run_id: row.id, status: 'cancelled' }, 202);
  });
