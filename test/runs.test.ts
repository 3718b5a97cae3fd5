import { describe, expect, it } from 'vitest';
import { makeUser } from './helpers';
import { linearGraph, openRunStream, readToEnd, runGraph, runLog, waitForStatus } from './runs-helpers';

describe('graph runs: execution and streaming', () => {
  it('runs a linear graph and streams every step', async () => {
    const alice = await makeUser();
    const { run } = await runGraph(alice, linearGraph, { name: 'Ada' });
    expect(run.status).toBe('running');
    const reader = await openRunStream(alice, run.run_id);
    const frames = await readToEnd(reader);
    expect(frames.map((f) => f.event)).toEqual([
      'run_started',
      'node_started',
      'node_completed',
      'edge_traversed',
      'node_started',
      'node_completed',
      'edge_traversed',
      'node_started',
      'node_completed',
      'edge_traversed',
      'graph_completed',
    ]);
    expect(reader.ended || (await reader.next(1000)) === undefined).toBe(true);
    const view = await waitForStatus(alice, run.run_id, 'completed');
    expect(view.final_state).toMatchObject({ name: 'Ada', greeting: 'hello Ada' });
    expect((await runLog(alice, run.run_id)).length).toBe(11);
  });
});
