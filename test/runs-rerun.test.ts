import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { runs } from '../worker/db/schema';
import { hubFor } from '../worker/hub/hub-client';
import { waitFor } from './escalation-helpers';
import { call, colleague, expectError, json, makeUser, type TestUser, withDb } from './helpers';
import {
  countOf,
  httpBase,
  humanGraph,
  openRunStream,
  type RunView,
  readToEnd,
  runGraph,
  runLog,
  type Started,
  status,
  waitForStatus,
} from './runs-helpers';

/**
 * prep → fetch (http_get of `/{{route}}/{{key}}`) → done: fails at fetch while `route` names
 * nothing. (Each value is percent-encoded into the URL, so a route and its key are two fields.)
 */
const fetchGraph = {
  entry: 'prep',
  nodes: [
    { id: 'prep', type: 'transform', set: { prepared: true } },
    {
      id: 'fetch',
      type: 'tool',
      tool: 'http_get',
      args: { url: `${httpBase}/{{route}}/{{key}}` },
      output_key: 'page',
    },
    { id: 'done', type: 'transform', set: { finished: true } },
  ],
  edges: [
    { from: 'prep', to: 'fetch' },
    { from: 'fetch', to: 'done' },
  ],
};

const rerun = (user: TestUser, runId: string, body: unknown = {}) =>
  call(`/v1/runs/${runId}/rerun`, user, { body });

type RunAnswer = RunView;

/** A run of fetchGraph that failed at `fetch` (HTTP 404). */
async function failedRun(user: TestUser) {
  const { graph, run } = await runGraph(user, fetchGraph, { route: 'missing', key: 'x' });
  await waitForStatus(user, run.run_id, 'failed');
  return { graph, runId: run.run_id };
}

async function makeDue(user: TestUser, jobId: string) {
  const hub = hubFor(env, user.acct);
  await runInDurableObject(hub, (_h, state) => {
    state.storage.sql.exec('update jobs set run_at = 0 where id = ?', jobId);
  });
  await runDurableObjectAlarm(hub);
}

describe('graph runs: rerun from a checkpoint', () => {
  it('reruns a failed run from the node that failed, with the state before it merged with state_patch', async () => {
    const alice = await makeUser();
    const { graph, runId } = await failedRun(alice);
    const tag = crypto.randomUUID();
    const res = await rerun(alice, runId, { state_patch: { route: 'count', key: tag } });
    expect(res.status).toBe(202);
    const child = await json<Started>(res);
    expect(child.run_id).not.toBe(runId);
    const frames = await readToEnd(await openRunStream(alice, child.run_id));
    // It starts at the failed node (prep is not run again), from prep's output plus the patch.
    expect(frames[0]).toMatchObject({
      event: 'run_started',
      data: {
        run_id: child.run_id,
        graph_id: graph.id,
        parent_run_id: runId,
        from_node: 'fetch',
        input: { route: 'count', key: tag, prepared: true },
      },
    });
    expect(
      frames.filter((f) => f.event === 'node_started').map((f) => (f.data as { node_id: string }).node_id),
    ).toEqual(['fetch', 'done']);
    const done = (await waitForStatus(alice, child.run_id, 'completed')) as RunAnswer;
    expect(done.final_state).toMatchObject({
      prepared: true,
      finished: true,
      page: { body: { key: tag, n: 1 } },
    });
    expect(done).toMatchObject({ parent_run_id: runId, from_node: 'fetch', graph_id: graph.id, reruns: 0 });
    // The parent lists its rerun; the list shows who came from where.
    expect(((await status(alice, runId)) as RunAnswer).reruns).toBe(1);
    const children = await json<{ items: RunAnswer[] }>(await call(`/v1/runs?parent_run_id=${runId}`, alice));
    expect(children.items.map((r) => [r.id, r.parent_run_id])).toEqual([[child.run_id, runId]]);
    const all = await json<{ items: RunAnswer[] }>(await call('/v1/runs', alice));
    expect(all.items.find((r) => r.id === runId)).toMatchObject({ reruns: 1, parent_run_id: null });
  });

  it('reruns from any node the run reached, from the entry by default for a run that did not fail', async () => {
    const alice = await makeUser();
    const tag = crypto.randomUUID();
    const { run } = await runGraph(alice, fetchGraph, { route: 'count', key: tag });
    await waitForStatus(alice, run.run_id, 'completed');
    // The checkpoints: the state before each node.
    const cps = await json<{ items: { node_id: string; state: unknown }[]; kept_until: string }>(
      await call(`/v1/runs/${run.run_id}/checkpoints`, alice),
    );
    expect(cps.items.map((c) => [c.node_id, c.state])).toEqual([
      ['prep', { route: 'count', key: tag }],
      ['fetch', { route: 'count', key: tag, prepared: true }],
      ['done', expect.objectContaining({ prepared: true, page: expect.any(Object) })],
    ]);
    expect(Date.parse(cps.kept_until) - Date.now()).toBeGreaterThan(6.9 * 24 * 3600_000);
    const fromDone = await json<Started>(
      await rerun(alice, run.run_id, { from_node: 'done', state_patch: { extra: 1 } }),
    );
    const end = await waitForStatus(alice, fromDone.run_id, 'completed');
    expect(end.final_state).toMatchObject({ extra: 1, finished: true, prepared: true });
    // A completed run reruns from its entry when no node is named.
    const again = await json<Started>(await rerun(alice, run.run_id));
    expect(((await waitForStatus(alice, again.run_id, 'completed')) as RunAnswer).from_node).toBe('prep');
    expect(await countOf(tag)).toBe(2);
  });

  it('refuses a run that has not finished (409), a node it never reached or that does not exist (400)', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, humanGraph);
    await waitForStatus(alice, run.run_id, 'paused');
    const active = await expectError(await rerun(alice, run.run_id), 409, 'run_active');
    expect(active.details).toEqual({ status: 'paused' });
    await call(`/v1/runs/${run.run_id}/cancel`, alice, { method: 'POST' });
    await waitForStatus(alice, run.run_id, 'cancelled');
    // Cancelled while paused at `ask`: `done` was never reached.
    const unreached = await expectError(
      await rerun(alice, run.run_id, { from_node: 'done' }),
      400,
      'node_not_reached',
    );
    expect(unreached.details).toEqual([
      { field: 'from_node', message: expect.stringContaining('never reached') },
    ]);
    await expectError(await rerun(alice, run.run_id, { from_node: 'nope' }), 400, 'unknown_node');
    // From the human node it pauses again, asking the same question.
    const ask = await json<Started>(
      await rerun(alice, run.run_id, { from_node: 'ask', state_patch: { name: 'Ada' } }),
    );
    const paused = await waitForStatus(alice, ask.run_id, 'paused');
    expect(paused.paused).toEqual({ node_id: 'ask', prompt: 'Which product, Ada?' });
    await call(`/v1/runs/${ask.run_id}/cancel`, alice, { method: 'POST' });
    // Bad bodies.
    await expectError(await rerun(alice, run.run_id, { state_patch: [1] }), 400, 'validation_failed');
    await expectError(await rerun(alice, run.run_id, { from_node: 'a b' }), 400, 'validation_failed');
    await expectError(await rerun(alice, run.run_id, { extra: true }), 400, 'validation_failed');
    await expectError(await rerun(alice, crypto.randomUUID()), 404, 'not_found');
  });

  it('lets only the starter or an admin resume, cancel or rerun; every engineer reads and streams', async () => {
    const alice = await makeUser();
    const bob = await colleague(alice, 'engineer', 'Bob');
    const ada = await colleague(alice, 'admin', 'Ada');
    const viewer = await colleague(alice, 'viewer', 'Vic');
    const { run } = await runGraph(alice, humanGraph, { name: 'Al' });
    await waitForStatus(alice, run.run_id, 'paused');
    const resume = (u: TestUser) => call(`/v1/runs/${run.run_id}/resume`, u, { body: { input: 'vpn' } });
    const cancel = (u: TestUser, id = run.run_id) => call(`/v1/runs/${id}/cancel`, u, { method: 'POST' });
    await expectError(await resume(bob), 403, 'forbidden');
    await expectError(await cancel(bob), 403, 'forbidden');
    await expectError(await resume(viewer), 403);
    // Bob reads and streams it all the same.
    expect((await call(`/v1/runs/${run.run_id}/status`, bob)).status).toBe(200);
    const reader = await openRunStream(bob, run.run_id);
    expect((await reader.events(3)).map((f) => f.event)).toEqual([
      'run_started',
      'node_started',
      'graph_paused',
    ]);
    await reader.close();
    // An admin may act on anyone's run.
    expect((await resume(ada)).status).toBe(202);
    await waitForStatus(alice, run.run_id, 'completed');
    await expectError(await rerun(bob, run.run_id), 403, 'forbidden');
    await expectError(await rerun(viewer, run.run_id), 403);
    const byAda = await rerun(ada, run.run_id, { from_node: 'ask' });
    expect(byAda.status).toBe(202);
    const child = await json<Started>(byAda);
    // The rerun is Ada's: Alice, who started the parent, may not cancel it; Ada may.
    expect((await status(alice, child.run_id)).started_by).toBe(ada.sub);
    await expectError(await cancel(alice, child.run_id), 403, 'forbidden');
    expect((await cancel(ada, child.run_id)).status).toBe(202);
    expect((await rerun(alice, run.run_id, { from_node: 'done' })).status).toBe(202);
  });

  it('keeps checkpoints past the log purge, and prunes them 7 days after the end', async () => {
    const alice = await makeUser();
    const tag = crypto.randomUUID();
    const { run } = await runGraph(alice, fetchGraph, { route: 'count', key: tag });
    await waitForStatus(alice, run.run_id, 'completed');
    await waitFor(
      async () =>
        (await json<{ items: { id: string; status: string }[] }>(await call('/v1/runs', alice))).items.find(
          (r) => r.id === run.run_id,
        )?.status === 'completed'
          ? true
          : undefined,
      'the run record in Postgres',
    );
    const hub = hubFor(env, alice.acct);
    const jobAt = (id: string) =>
      runInDurableObject(
        hub,
        (_h, state) =>
          state.storage.sql.exec<{ run_at: number }>('select run_at from jobs where id = ?', id).toArray()[0]
            ?.run_at,
      );
    const endedAt = Date.parse((await status(alice, run.run_id)).ended_at ?? '');
    // The log goes after a day, the checkpoints after seven.
    expect(await jobAt(`run-purge:${run.run_id}`)).toBe(endedAt + 24 * 3600_000);
    expect(await jobAt(`run-checkpoints:${run.run_id}`)).toBe(endedAt + 7 * 24 * 3600_000);
    await makeDue(alice, `run-purge:${run.run_id}`);
    await waitFor(
      async () => ((await runLog(alice, run.run_id)).length === 0 ? true : undefined),
      'the log purge',
    );
    // The log is gone, the checkpoints are not: a rerun from the middle still works.
    const mid = await rerun(alice, run.run_id, { from_node: 'fetch' });
    expect(mid.status).toBe(202);
    await waitForStatus(alice, (await json<Started>(mid)).run_id, 'completed');

    await makeDue(alice, `run-checkpoints:${run.run_id}`);
    const left = () =>
      runInDurableObject(hub, (_h, state) =>
        state.storage.sql
          .exec<{ n: number }>('select count(*) as n from run_checkpoints where run_id = ?', run.run_id)
          .one(),
      );
    // An alarm already under way may run the job instead of ours: wait for it.
    await waitFor(async () => ((await left()).n === 0 ? true : undefined), 'the checkpoints to be pruned');
    expect(
      (await json<{ items: unknown[] }>(await call(`/v1/runs/${run.run_id}/checkpoints`, alice))).items,
    ).toEqual([]);
    // Seven days on (the end moved back), the answer says they expired; the entry needs none.
    await withDb((db) =>
      db.update(runs).set({ endedAt: sql`now() - interval '8 days'` }).where(eq(runs.id, run.run_id)),
    );
    await expectError(await rerun(alice, run.run_id, { from_node: 'fetch' }), 409, 'checkpoints_expired');
    const fromEntry = await rerun(alice, run.run_id, { from_node: 'prep' });
    expect(fromEntry.status).toBe(202);
  });
});
