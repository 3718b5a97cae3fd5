import { describe, expect, it } from 'vitest';
import type { Config } from '../config';
import { assessmentPrompt, assessmentProvider, parseAssessment } from './assessment';

const input = {
  handoff: { reason: 'customer blocked', severity: 'urgent' as const, intent: 'escalate' as const },
  session: { title: 'VPN', problemSummary: 'Drops every 5 minutes', customer: 'Acme' },
  steps: [
    { action: 'restarted client', outcome: 'failed' as const, notes: null },
    { action: 'switched to TCP', outcome: 'partial' as const, notes: 'better' },
  ],
};

describe('assessment', () => {
  it('assesses with a real model only: `none` and `fake` get the heuristic (DESIGN.md)', () => {
    const config = (provider: Config['LLM_PROVIDER']) => ({ LLM_PROVIDER: provider }) as Config;
    expect(assessmentProvider(config('none'), {})).toBeNull();
    expect(assessmentProvider(config('fake'), {})).toBeNull();
    const openai = { ...config('openai'), OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', OPENAI_MODEL: 'm' };
    expect(assessmentProvider(openai as Config, {})?.name).toBe('openai');
  });

  it('reads the JSON a model was asked for, and falls back to its text', () => {
    const json = parseAssessment(
      'Sure: {"summary":"MTU issue","likely_cause":"fragmentation","ruled_out":["DNS",false],"suggested_next_steps":["lower MTU",3]}',
      'openai',
      'm',
    );
    expect(json).toMatchObject({ source: 'llm', summary: 'MTU issue', likely_cause: 'fragmentation' });
    expect(json.suggested_next_steps).toEqual(['lower MTU']);
    expect(json.ruled_out).toEqual(['DNS']);
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
