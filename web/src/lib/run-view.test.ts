import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../worker/contract/events';
import { applyRunEvent, initialRunView, type RunView } from './run-view';

const fold = (events: RunEvent[], from: RunView = initialRunView()) => events.reduce(applyRunEvent, from);

const paused: RunEvent[] = [
  { type: 'run_started', data: { run_id: 'r', graph_id: 'g', input: { ticket: 7 } } },
  { type: 'node_started', data: { node_id: 'ask' } },
  { type: 'graph_paused', data: { node_id: 'ask', prompt: 'Which product?' } },
];

describe('run view', () => {
  it('lights nodes up in turn and shows a pause with its prompt', () => {
    const v = fold(paused);
    expect(v.phase).toBe('paused');
    expect(v.pause).toEqual({ nodeId: 'ask', prompt: 'Which product?' });
    expect(v.nodes.ask?.status).toBe('paused');
    expect(v.state).toEqual({ ticket: 7 });
  });

  it('resumes, completes nodes with their state, and ends with the final state', () => {
    const v = fold([
      ...paused,
      { type: 'run_resumed', data: { node_id: 'ask' } },
      {
        type: 'node_completed',
        data: { node_id: 'ask', state: { ticket: 7, product: 'vpn' }, duration_ms: 3 },
      },
      { type: 'edge_traversed', data: { from: 'ask', to: 'answer' } },
      { type: 'node_started', data: { node_id: 'answer' } },
      {
        type: 'node_completed',
        data: { node_id: 'answer', state: { ticket: 7, product: 'vpn', answer: 'x' }, duration_ms: 5 },
      },
      { type: 'edge_traversed', data: { from: 'answer', to: '__end__' } },
      {
        type: 'graph_completed',
        data: { final_state: { ticket: 7, product: 'vpn', answer: 'x' }, duration_ms: 12 },
      },
    ]);
    expect(v.phase).toBe('completed');
    expect(v.pause).toBeNull();
    expect(v.nodes.ask).toMatchObject({
      status: 'done',
      next: 'answer',
      durationMs: 3,
      state: { product: 'vpn' },
    });
    expect(v.nodes.answer).toMatchObject({ status: 'done', next: '__end__', changed: { answer: 'x' } });
    expect(v.nodes.ask?.changed).toEqual({ product: 'vpn' });
    expect(v.finalState).toEqual({ ticket: 7, product: 'vpn', answer: 'x' });
    expect(v.log).toHaveLength(10);
  });

  it('a cancel ends the run as cancelled, not failed', () => {
    const v = fold([
      ...paused,
      { type: 'error', data: { code: 'cancelled', message: 'cancelled by Alice' } },
    ]);
    expect(v.phase).toBe('cancelled');
    expect(v.nodes.ask?.status).toBe('waiting');
    expect(v.pause).toBeNull();
  });

  it('a failure marks the running node failed', () => {
    const v = fold([
      { type: 'node_started', data: { node_id: 'lookup' } },
      { type: 'error', data: { code: 'node_failed', message: 'boom' } },
    ]);
    expect(v.phase).toBe('failed');
    expect(v.nodes.lookup?.status).toBe('failed');
    expect(v.error).toEqual({ code: 'node_failed', message: 'boom' });
  });

  it('a stream opened on a finished run (only the terminal event) still shows the end', () => {
    const v = fold([{ type: 'graph_completed', data: { final_state: { a: 1 }, duration_ms: 4 } }]);
    expect(v.phase).toBe('completed');
    expect(v.finalState).toEqual({ a: 1 });
  });
});
