import type { Context } from 'hono';
import { isTerminalStatus } from '../contract/statuses';
import type { RunRow } from '../db/schema';
import { hubFor } from '../hub/hub-client';
import type { AppEnv } from '../lib/app-env';
import { requireRole } from '../lib/auth';
import { type ApiError, conflict, hubUnavailable, notFound, tooManyRequests } from '../lib/errors';
import { hubCall } from '../lib/hub-call';
import {
  createRouter,
  eventStreamResponse,
  jsonBody,
  jsonResponse,
  lastEventIdDoc,
  routesOf,
} from '../lib/openapi';
import { decodeCursor, page } from '../lib/pagination';
import { currentRunView } from '../runs/current-run';
import { endRunInPostgres } from '../runs/run-records';
import { startRun } from '../runs/run-start';
import { findRun, listRuns } from '../runs/run-store';
import { runStream } from '../runs/run-stream';
import type { CancelRunResult, LimitRefusal, ResumeRunResult, RunLimits } from '../runs/run-types';
import { runJson } from '../runs/run-view';
import { IdParam, pageOf } from '../schemas/common';
import {
  ResumeRunBody,
  RunCancelledSchema,
  RunListQuery,
  RunResumedSchema,
  RunSchema,
  RunStartedSchema,
  runAnswer,
  StartRunBody,
} from '../schemas/runs';
import { lastEventIdOf } from '../streams/hub-stream';

const writers = requireRole('engineer', 'admin');
const route = routesOf('Runs');

const limitsOf = (c: Context<AppEnv>): RunLimits => ({
  perUser: c.var.config.MAX_RUNS_PER_KEY,
  perAccount: c.var.config.MAX_RUNS_PER_ACCOUNT,
  pausedPerAccount: c.var.config.MAX_PAUSED_RUNS_PER_ACCOUNT,
});

function tooManyRuns(refusal: LimitRefusal): ApiError {
  if (refusal.scope === 'paused') {
    return tooManyRequests(
      'too_many_paused_runs',
      `this account has ${refusal.limit} paused runs, the limit (MAX_PAUSED_RUNS_PER_ACCOUNT); answer or cancel some first`,
      refusal.retryAfterSeconds,
      { scope: refusal.scope, limit: refusal.limit },
    );
  }
  const who = refusal.scope === 'user' ? 'you have' : 'this account has';
  return tooManyRequests(
    'too_many_runs',
    `${who} ${refusal.limit} active runs, the limit (MAX_RUNS_PER_${refusal.scope === 'user' ? 'KEY' : 'ACCOUNT'}); paused runs do not count`,
    refusal.retryAfterSeconds,
    { scope: refusal.scope, limit: refusal.limit },
  );
}

const runEnded = (status: string) => conflict('run_ended', `the run already ended (${status})`, { status });

async function loadRun(c: Context<AppEnv>, id: string) {
  const db = await c.var.db();
  const row: RunRow | undefined = await findRun(db, c.var.identity.accountId, id);
  if (!row) throw notFound('run');
  return { db, row };
}

const start = route({
  method: 'post',
  path: '/graphs/{id}/run',
  summary: 'Run a graph',
  description:
    'The run executes in the account’s hub; follow it on `stream_url`. 429 over a limit of active runs, or when the account holds `MAX_PAUSED_RUNS_PER_ACCOUNT` paused runs.',
  middleware: writers,
  request: { params: IdParam, body: jsonBody(StartRunBody) },
  answers: { 202: jsonResponse(RunStartedSchema, 'Started') },
  errors: [403, 404, 409, 429],
});

const list = route({
  method: 'get',
  path: '/runs',
  summary: 'List the account’s runs, newest first',
  request: { query: RunListQuery },
  answers: { 200: jsonResponse(pageOf(RunSchema).openapi('RunPage'), 'One page of runs') },
  errors: [400],
});

const status = route({
  method: 'get',
  path: '/runs/{id}/status',
  summary: 'One run’s status, also after it ended',
  request: { params: IdParam },
  answers: { 200: jsonResponse(RunSchema, 'The run, live from its hub while it has it, else from Postgres') },
  errors: [400, 404],
});

const stream = route({
  method: 'get',
  path: '/runs/{id}/stream',
  summary: 'The run’s events, live',
  description:
    'From the run’s first event unless `Last-Event-ID` says otherwise; ends after `graph_completed` or `error`. A finished run whose log is gone sends its terminal event from Postgres and closes.',
  middleware: writers,
  request: { params: IdParam, ...lastEventIdDoc },
  answers: { 200: eventStreamResponse('Server-Sent Events') },
  errors: [400, 403, 404, 429],
});

const resume = route({
  method: 'post',
  path: '/runs/{id}/resume',
  summary: 'Answer a paused run',
  middleware: writers,
  request: { params: IdParam, body: jsonBody(ResumeRunBody) },
  answers: { 202: jsonResponse(RunResumedSchema, 'Resumed') },
  errors: [403, 404, 409, 429],
});

const cancel = route({
  method: 'post',
  path: '/runs/{id}/cancel',
  summary: 'Cancel a running or paused run',
  middleware: writers,
  request: { params: IdParam },
  answers: { 202: jsonResponse(RunCancelledSchema, 'Cancelled') },
  errors: [400, 403, 404, 409],
});

export const runRoutes = createRouter()
  .openapi(start, async (c) => {
    const { id: graphId } = c.req.valid('param');
    const { input } = c.req.valid('json');
    const config = c.var.config;
    const started = await startRun(c.env, await c.var.db(), c.var.identity, graphId, input, {
      limits: limitsOf(c),
      runTimeoutSeconds: config.RUN_TIMEOUT_SECONDS,
      pauseTimeoutSeconds: config.PAUSE_TIMEOUT_SECONDS,
    });
    if (!started.ok) {
      if (started.reason === 'no_graph') throw notFound('graph');
      if (started.reason === 'hub_unavailable') throw hubUnavailable();
      if (started.reason === 'limit') throw tooManyRuns(started);
      throw conflict('conflict', 'the run already exists');
    }
    const id = started.run.id;
    const statusUrl = `/v1/runs/${id}/status`;
    return c.json(
      { run_id: id, status: started.status, stream_url: `/v1/runs/${id}/stream`, status_url: statusUrl },
      202,
      { Location: statusUrl },
    );
  })
  .openapi(list, async (c) => {
    const { limit, cursor, status, graph_id } = c.req.valid('query');
    const rows = await listRuns(await c.var.db(), c.var.identity.accountId, {
      status,
      graphId: graph_id,
      after: decodeCursor(cursor),
      limit: limit + 1,
    });
    const { items, nextCursor } = page(rows, limit);
    return c.json({ items: items.map((r) => runAnswer(runJson(r))), next_cursor: nextCursor }, 200);
  })
  .openapi(status, async (c) => {
    const { db, row } = await loadRun(c, c.req.valid('param').id);
    return c.json(runAnswer((await currentRunView(c.env, db, row)).view), 200);
  })
  .openapi(stream, async (c) => {
    const after = lastEventIdOf(c);
    const { db, row } = await loadRun(c, c.req.valid('param').id);
    return runStream(c, db, row, after);
  })
  .openapi(resume, async (c) => {
    const { input } = c.req.valid('json');
    const { row } = await loadRun(c, c.req.valid('param').id);
    const result = await hubCall<ResumeRunResult>('resumeRun', () =>
      hubFor(c.env, row.accountId).resumeRun(row.id, input, limitsOf(c)),
    );
    if (result.ok) {
      return c.json({ run_id: row.id, status: result.status, stream_url: `/v1/runs/${row.id}/stream` }, 202);
    }
    if (result.reason === 'limit') throw tooManyRuns(result);
    const now = result.reason === 'not_paused' ? result.status : row.status;
    throw conflict('not_paused', `the run is ${now.replace('_', ' ')}; only a paused run can be resumed`, {
      status: now,
    });
  })
  .openapi(cancel, async (c) => {
    const { db, row } = await loadRun(c, c.req.valid('param').id);
    if (isTerminalStatus(row.status)) throw runEnded(row.status);
    const result = await hubCall<CancelRunResult>('cancelRun', () =>
      hubFor(c.env, row.accountId).cancelRun(row.id),
    );
    if (result.ok) return c.json({ run_id: row.id, status: result.status }, 202);
    if (result.reason === 'ended') throw runEnded(result.status);
    // The hub has no record of it (never accepted, or lost). It has recorded a tombstone for the
    // id, so a start still on its way is refused and the run cannot come back: end it in Postgres.
    const ended = await endRunInPostgres(db, row, 'cancelled', 'cancelled', 'cancelled by a user');
    if (!ended) throw conflict('run_ended', 'the run already ended');
    return c.json({ run_id: row.id, status: 'cancelled' as const }, 202);
  });
