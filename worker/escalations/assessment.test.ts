import { describe, expect, it } from 'vitest';
import { assessmentPrompt, heuristicAssessment, parseAssessment } from './assessment';

const input = {
  handoff: { reason: 'customer blocked', severity: 'urgent' as const, intent: 'escalate' as const },
  session: { title: 'VPN', problemSummary: 'Drops every 5 minutes', customer: 'Acme' },
  steps: [
    { action: 'restarted client', outcome: 'failed' as const, notes: null },
    { action: 'switched to TCP', outcome: 'partial' as const, notes: 'better' },
  ],
};

describe('assessment', () => {
  it('builds a deterministic, labelled heuristic from the session and its steps', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const a = heuristicAssessment(input, now);
    expect(a).toEqual(heuristicAssessment(input, now));
    expect(a).toMatchObject({ source: 'heuristic', provider: 'heuristic', model: null });
    expect(a.summary).toContain('Acme: Drops every 5 minutes');
    expect(a.summary).toContain('2 steps tried: 1 failed, 1 partial');
    expect(a.suggested_next_steps[0]).toBe('Continue from the partial result: switched to TCP');
    expect(a.suggested_next_steps.join(' ')).toMatch(/Do not repeat what failed: restarted client/);
  });

  it('reads the JSON a model was asked for, and falls back to its text', () => {
    const json = parseAssessment(
      'Sure: {"summary":"MTU issue","likely_cause":"fragmentation","suggested_next_steps":["lower MTU",3]}',
      'openai',
      'm',
    );
    expect(json).toMatchObject({ source: 'llm', summary: 'MTU issue', likely_cause: 'fragmentation' });
    expect(json.suggested_next_steps).toEqual(['lower MTU']);
    expect(parseAssessment('just prose', 'fake', 'f').summary).toBe('just prose');
  });

  it('keeps the prompt bounded: the newest 50 steps', () => {
    const many = {
      ...input,
      steps: Array.from({ length: 80 }, (_, i) => ({
        action: `s${i}`,
        outcome: 'failed' as const,
        notes: null,
      })),
    };
    const { prompt } = assessmentPrompt(many);
    expect(prompt).toContain('s79');
    expect(prompt).not.toContain('s29 ');
    expect(prompt).not.toMatch(/\bs0\b/);
  });
});
