import type { Context } from 'hono';
import { isTerminalStatus } from '../contract/statuses';
import type { RunRow } from '../db/schema';
import { findGraph } from '../graphs/graph-store';
import { hubFor } from '../hub/hub-client';
import type { AppEnv } from '../lib/app-env';
import {
  type ApiError,
  badRequest,
  conflict,
  forbidden,
  hubUnavailable,
  idempotencyKeyReused,
  notFound,
  tooManyRequests,
} from '../lib/errors';
import { hubCall } from '../lib/hub-call';
import { createRouter, jsonBody, jsonResponse, routesOf } from '../lib/openapi';
import { decodeCursor, page } from '../lib/pagination';
import { currentRunView } from '../runs/current-run';
import { RUN_CHECKPOINT_RETENTION_MS } from '../runs/run-checkpoints';
import { mayActOnRun } from '../runs/run-permissions';
import { endRunInPostgres } from '../runs/run-records';
import { rerunFrom } from '../runs/run-rerun';
import { type RunStartOutcome, type RunStartSettings, startGraphRun } from '../runs/run-start';
import { findRun, listRuns, rerunCounts } from '../runs/run-store';
import { runStream } from '../runs/run-stream';
import type {
  CancelRunResult,
  LimitRefusal,
  ResumeRunResult,
  RunCheckpointView,
  RunLimits,
} from '../runs/run-types';
import { runJson } from '../runs/run-view';
import {
  checkpointsAnswer,
  RerunBody,
  ResumeRunBody,
  RunCancelledSchema,
  RunCheckpointsSchema,
  RunListQuery,
  RunResumedSchema,
  RunSchema,
  RunStartedSchema,
  runAnswer,
  StartRunBody,
  StartRunHeaders,
} from '../schemas/runs';
import { lastEventIdOf } from '../streams/hub-stream';

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

const startSettings = (c: Context<AppEnv>): RunStartSettings => ({
  limits: limitsOf(c),
  runTimeoutSeconds: c.var.config.RUN_TIMEOUT_SECONDS,
  pauseTimeoutSeconds: c.var.config.PAUSE_TIMEOUT_SECONDS,
});

async function loadRun(c: Context<AppEnv>, id: string) {
  const db = await c.var.db();
  const row: RunRow | undefined = await findRun(db, c.var.identity.accountId, id);
  if (!row) throw notFound('run');
  return { db, row };
}

/** A run the caller may act on: its starter or an admin (DESIGN.md "Who may act on a run"). */
async function loadOwnRun(c: Context<AppEnv>, id: string, verb: string) {
  const loaded = await loadRun(c, id);
  if (!mayActOnRun(c.var.identity, loaded.row)) {
    throw forbidden(`only the user who started this run, or an admin, may ${verb} it`);
  }
  return loaded;
}

/** The 202 of a started run (a start, a replayed start, a rerun), or the error its refusal is. */
function startedAnswer(c: Context<AppEnv>, started: RunStartOutcome) {
  if (!started.ok) {
    if (started.reason === 'hub_unavailable') throw hubUnavailable();
    if (started.reason === 'limit') throw tooManyRuns(started);
    if (started.reason === 'key_reused') throw idempotencyKeyReused();
    throw conflict('conflict', 'the run already exists');
  }
  const id = started.run.id;
  const statusUrl = `/v1/runs/${id}/status`;
  return c.json(
    { run_id: id, status: started.status, stream_url: `/v1/runs/${id}/stream`, status_url: statusUrl },
    202,
    { Location: statusUrl, ...(started.replayed ? { 'Idempotent-Replayed': 'true' } : {}) },
  );
}

const start = route.post('/graphs/{id}/run', {
  summary: 'Run a graph',
  description:
    'The run executes in the account’s hub; follow it on `stream_url`. 429 over a limit of active runs, or when the account holds `MAX_PAUSED_RUNS_PER_ACCOUNT` paused runs.',
  request: { headers: StartRunHeaders, body: jsonBody(StartRunBody) },
  answers: {
    202: jsonResponse(RunStartedSchema, 'Started (or, for a repeated Idempotency-Key, the run it started)'),
  },
  errors: [409, 422, 429],
});

const list = route.list('/runs', {
  summary: 'List the account’s runs, newest first',
  query: RunListQuery,
  item: RunSchema,
  name: 'Run',
  what: 'runs',
});

const status = route.get('/runs/{id}/status', {
  summary: 'One run’s status, also after it ended',
  answers: { 200: jsonResponse(RunSchema, 'The run, live from its hub while it has it, else from Postgres') },
});

const stream = route.stream('/runs/{id}/stream', {
  summary: 'The run’s events, live',
  description:
    'From the run’s first event unless `Last-Event-ID` says otherwise; ends after `graph_completed` or `error`. A finished run whose log is gone sends its terminal event from Postgres and closes.',
});

const resume = route.post('/runs/{id}/resume', {
  summary: 'Answer a paused run',
  request: { body: jsonBody(ResumeRunBody) },
  answers: { 202: jsonResponse(RunResumedSchema, 'Resumed') },
  errors: [409, 429],
});

const cancel = route.post('/runs/{id}/cancel', {
  summary: 'Cancel a running or paused run',
  description: 'By the user who started the run or an admin (others 403).',
  answers: { 202: jsonResponse(RunCancelledSchema, 'Cancelled') },
  errors: [409],
});

const rerun = route.post('/runs/{id}/rerun', {
  summary: 'Rerun a finished run from one of its nodes',
  description:
    'Starts a new run (its `parent_run_id` is this one) at `from_node` (default: the node a failed run stopped at, else the node the run started at) with the state this run had before that node ran, shallow-merged with `state_patch`. Only a finished run (else 409 `run_active`), by its starter or an admin (else 403); a node it never reached is 400 `node_not_reached`; its checkpoints are kept 7 days after it ended (then 409 `checkpoints_expired`).',
  request: { body: jsonBody(RerunBody) },
  answers: { 202: jsonResponse(RunStartedSchema, 'The new run, started') },
  errors: [409, 429],
});

const checkpoints = route.get('/runs/{id}/checkpoints', {
  summary: 'The state before each node the run reached',
  description:
    'What a rerun starts from: one item per node the run started (the last time it did), oldest first. Kept 7 days after the run ended.',
  answers: { 200: jsonResponse(RunCheckpointsSchema, 'The run’s checkpoints') },
});

export const runRoutes = createRouter()
  .openapi(start, async (c) => {
    const { id: graphId } = c.req.valid('param');
    const { input } = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];
    const db = await c.var.db();
    const graph = await findGraph(db, c.var.identity.accountId, graphId);
    if (!graph) throw notFound('graph');
    return startedAnswer(
      c,
      await startGraphRun(c.env, db, c.var.identity, graph, input, startSettings(c), { idempotencyKey: key }),
    );
  })
  .openapi(list, async (c) => {
    const { limit, cursor, status, graph_id, parent_run_id } = c.req.valid('query');
    const db = await c.var.db();
    const accountId = c.var.identity.accountId;
    const rows = await listRuns(db, accountId, {
      status,
      graphId: graph_id,
      parentRunId: parent_run_id,
      after: decodeCursor(cursor),
      limit: limit + 1,
    });
    const { items, nextCursor } = page(rows, limit);
    const reruns = await rerunCounts(
      db,
      accountId,
      items.map((r) => r.id),
    );
    return c.json(
      { items: items.map((r) => runAnswer(runJson(r), reruns.get(r.id))), next_cursor: nextCursor },
      200,
    );
  })
  .openapi(status, async (c) => {
    const { db, row } = await loadRun(c, c.req.valid('param').id);
    const [{ view }, reruns] = await Promise.all([
      currentRunView(c.env, db, row),
      rerunCounts(db, row.accountId, [row.id]),
    ]);
    return c.json(runAnswer(view, reruns.get(row.id)), 200);
  })
  .openapi(checkpoints, async (c) => {
    const { db, row } = await loadRun(c, c.req.valid('param').id);
    const items = await hubCall<RunCheckpointView[]>('runCheckpoints', () =>
      hubFor(c.env, row.accountId).runCheckpoints(row.id),
    );
    const { view } = await currentRunView(c.env, db, row);
    const endedAt = view.ended_at === null ? null : Date.parse(view.ended_at);
    return c.json(
      checkpointsAnswer(items, endedAt === null ? null : endedAt + RUN_CHECKPOINT_RETENTION_MS),
      200,
    );
  })
  .openapi(stream, async (c) => {
    const after = lastEventIdOf(c);
    const { db, row } = await loadRun(c, c.req.valid('param').id);
    return runStream(c, db, row, after);
  })
  .openapi(resume, async (c) => {
    const { input } = c.req.valid('json');
    const { row } = await loadOwnRun(c, c.req.valid('param').id, 'resume');
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
    const { db, row } = await loadOwnRun(c, c.req.valid('param').id, 'cancel');
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
  })
  .openapi(rerun, async (c) => {
    const body = c.req.valid('json');
    const { db, row } = await loadOwnRun(c, c.req.valid('param').id, 'rerun');
    const outcome = await rerunFrom(c.env, db, c.var.identity, row, body, startSettings(c));
    if (!outcome.ok) {
      switch (outcome.reason) {
        case 'not_finished':
          throw conflict(
            'run_active',
            `the run is ${outcome.status.replace('_', ' ')}; only a finished run can be rerun (cancel it first)`,
            { status: outcome.status },
          );
        case 'no_graph':
          throw notFound('graph');
        case 'no_such_node':
          throw badRequest('unknown_node', `the run's graph has no node "${outcome.node}"`, [
            { field: 'from_node', message: `no node "${outcome.node}" in this graph` },
          ]);
        case 'not_reached':
          throw badRequest(
            'node_not_reached',
            `the run never reached node "${outcome.node}", so there is no state to rerun it from`,
            [{ field: 'from_node', message: `node "${outcome.node}" was never reached by this run` }],
          );
        case 'checkpoints_expired':
          throw conflict(
            'checkpoints_expired',
            `the run ended more than 7 days ago and its checkpoints are gone; it can be rerun only from the node it started at`,
          );
        case 'state_too_big':
          throw badRequest(
            'state_too_large',
            `the state with state_patch would be ${outcome.bytes} bytes, over the state limit RUN_STATE_MAX_BYTES (${outcome.limit} bytes)`,
            [{ field: 'state_patch', message: `the merged state is over ${outcome.limit} bytes` }],
          );
      }
    }
    return startedAnswer(c, outcome);
  });
