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

  it('grows streamed text, starts it over on replace, and lights the edges taken', () => {
    const v = fold([
      { type: 'run_started', data: { run_id: 'r', graph_id: 'g', input: { q: 1 } } },
      { type: 'node_started', data: { node_id: 'answer' } },
      { type: 'node_delta', data: { node_id: 'answer', text: 'Hel', replace: true } },
      { type: 'node_delta', data: { node_id: 'answer', text: 'lo' } },
    ]);
    expect(v.nodes.answer?.streamed).toBe('Hello');
    expect(v.streamingNode).toBe('answer');
    expect(v.nodes.answer?.stateBefore).toEqual({ q: 1 });
    // Deltas are not events of the log.
    expect(v.log.map((l) => l.type)).toEqual(['run_started', 'node_started']);
    const w = fold(
      [
        { type: 'node_delta', data: { node_id: 'answer', text: 'Again', replace: true } },
        {
          type: 'node_completed',
          data: {
            node_id: 'answer',
            state: { q: 1, answer: 'Again!' },
            duration_ms: 3,
            usage: { prompt_tokens: 2, completion_tokens: 1 },
          },
        },
        { type: 'edge_traversed', data: { from: 'answer', to: '__end__' } },
        { type: 'edge_traversed', data: { from: 'answer', to: '__end__' } },
      ],
      v,
    );
    expect(w.nodes.answer).toMatchObject({ streamed: 'Again', status: 'done', usage: { prompt_tokens: 2 } });
    expect(w.taken).toEqual(['answer->__end__']);
    expect(w.log.at(-3)?.summary).toContain('2 + 1 tokens');
  });

  it('shows a node waiting to retry, then its next attempt from the same state', () => {
    const v = fold([
      {
        type: 'run_started',
        data: { run_id: 'r', graph_id: 'g', input: {}, parent_run_id: 'p', from_node: 'fetch' },
      },
      { type: 'node_started', data: { node_id: 'fetch' } },
      {
        type: 'node_retrying',
        data: {
          node_id: 'fetch',
          attempt: 1,
          max_attempts: 3,
          error: 'HTTP 503',
          next_attempt_at: '2026-01-01T00:00:05.000Z',
        },
      },
    ]);
    expect(v.parent).toEqual({ runId: 'p', fromNode: 'fetch' });
    expect(v.nodes.fetch).toMatchObject({
      status: 'retrying',
      retry: {
        attempt: 1,
        maxAttempts: 3,
        error: 'HTTP 503',
        nextAt: Date.parse('2026-01-01T00:00:05.000Z'),
      },
    });
    const w = fold([{ type: 'node_started', data: { node_id: 'fetch', attempt: 2 } }], v);
    expect(w.nodes.fetch?.status).toBe('running');
    expect(w.nodes.fetch?.attempt).toBe(2);
    expect(w.nodes.fetch?.retry).toBeUndefined();
    expect(w.log.at(-1)?.summary).toBe('fetch started (attempt 2)');
    // A run that ends while a node waits marks it failed.
    const x = fold([{ type: 'error', data: { code: 'timeout', message: 'too long' } }], v);
    expect(x.nodes.fetch?.status).toBe('failed');
  });
});
