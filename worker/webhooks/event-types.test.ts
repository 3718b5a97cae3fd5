import { describe, expect, it } from 'vitest';
import { selectsEvent as wants } from '../contract/events';
import { runIdOfTopic } from '../runs/run-types';
import { isEventSelector, webhookTypeOf } from './event-types';

describe('which events leave as webhooks', () => {
  it('escalation events keep their names; run events become run.paused, run.completed, run.failed', () => {
    expect(webhookTypeOf('escalations', 'escalation.created')).toBe('escalation.created');
    expect(webhookTypeOf('escalations', 'escalation.picked_up')).toBe('escalation.picked_up');
    expect(webhookTypeOf('run:r-1', 'graph_paused')).toBe('run.paused');
    expect(webhookTypeOf('run:r-1', 'graph_completed')).toBe('run.completed');
    expect(webhookTypeOf('run:r-1', 'error')).toBe('run.failed');
  });

  it('the steps of a run and unknown topics stay inside', () => {
    for (const t of ['run_started', 'node_started', 'node_completed', 'edge_traversed', 'run_resumed']) {
      expect(webhookTypeOf('run:r-1', t)).toBeNull();
    }
    expect(webhookTypeOf('escalations', 'presence')).toBeNull();
    expect(webhookTypeOf('other', 'escalation.created')).toBeNull();
    expect(runIdOfTopic('run:abc')).toBe('abc');
    expect(runIdOfTopic('escalations')).toBeNull();
  });

  it('matches exact types, families and everything', () => {
    expect(wants(['escalation.*'], 'escalation.created')).toBe(true);
    expect(wants(['escalation.*'], 'run.failed')).toBe(false);
    expect(wants(['run.*'], 'run.paused')).toBe(true);
    expect(wants(['run.failed'], 'run.completed')).toBe(false);
    expect(wants(['*'], 'ping')).toBe(true);
    expect(wants([], 'ping')).toBe(false);
    expect(wants(['escalation.sla_breached'], 'escalation.sla_breached')).toBe(true);
  });

  it('knows which selectors are valid', () => {
    for (const s of ['escalation.*', 'run.*', '*', 'ping', 'run.paused', 'escalation.created']) {
      expect(isEventSelector(s)).toBe(true);
    }
    for (const s of ['escalation', 'escalation.exploded', 'run.started', 'node_completed', '**', '']) {
      expect(isEventSelector(s)).toBe(false);
    }
  });
});
