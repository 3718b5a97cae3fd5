import { describe, expect, it } from 'vitest';
import { type HeuristicInput, heuristicAssessment } from './heuristic-assessment';

const vpn: HeuristicInput = {
  handoff: { reason: 'Customer blocked, needs a network specialist', severity: 'urgent', intent: 'escalate' },
  session: {
    title: 'VPN drops every five minutes',
    problemSummary: 'The VPN tunnel drops every five minutes since the 4.2 client update.',
    customer: 'Acme',
  },
  steps: [
    { action: 'Restarted the VPN client', outcome: 'failed', notes: null },
    { action: 'Checked the status page for an outage', outcome: 'worked', notes: 'all green' },
    {
      action: 'Switched the tunnel from UDP to TCP',
      outcome: 'partial',
      notes: 'drops every 20 minutes now',
    },
    { action: 'Asked the customer for the firewall logs', outcome: 'unknown', notes: null },
  ],
};

const now = new Date('2026-01-01T00:00:00Z');

describe('the heuristic assessment', () => {
  it('is deterministic and labelled as a heuristic, not a model', () => {
    const a = heuristicAssessment(vpn, now);
    expect(a).toEqual(heuristicAssessment(vpn, now));
    expect(a).toMatchObject({
      source: 'heuristic',
      provider: 'heuristic',
      model: null,
      generated_at: '2026-01-01T00:00:00.000Z',
    });
  });

  it('summarises the problem, the steps by outcome and the reason', () => {
    const a = heuristicAssessment(vpn, now);
    expect(a.summary).toContain('Acme: The VPN tunnel drops every five minutes');
    expect(a.summary).toContain(
      '4 steps tried: 1 failed, 1 partly worked, 1 worked, 1 with no known outcome.',
    );
    expect(a.summary).toContain('Escalated as urgent: Customer blocked');
  });

  it('names a likely cause from the words, the partial step and the change it started after', () => {
    const cause = heuristicAssessment(vpn, now).likely_cause ?? '';
    expect(cause).toMatch(/^Most likely the network path/);
    expect(cause).toContain(
      '“Switched the tunnel from UDP to TCP” (drops every 20 minutes now) partly helped',
    );
    expect(cause).toContain('It started “since the 4.2 client update”');
  });

  it('rules out what failed and what checked out, and only that', () => {
    const a = heuristicAssessment(vpn, now);
    expect(a.ruled_out).toEqual([
      '“Restarted the VPN client” was tried and did not help.',
      '“Checked the status page for an outage” (all green) worked, so that part is not what is still broken.',
    ]);
  });

  it('starts the next steps from the partial result, then the area’s checks, the unknown outcome and what not to repeat', () => {
    const next = heuristicAssessment(vpn, now).suggested_next_steps;
    expect(next[0]).toBe(
      'Build on what partly worked: “Switched the tunnel from UDP to TCP” (drops every 20 minutes now).',
    );
    expect(next[1]).toMatch(/^Confirm the regression/);
    expect(next.join('\n')).toMatch(/path MTU/);
    expect(next).toContain(
      'Find out what came of “Asked the customer for the firewall logs”: its outcome was not recorded.',
    );
    expect(next).toContain('Do not repeat what already failed: Restarted the VPN client.');
    expect(next.at(-1)).toMatch(/the escalation is urgent/);
  });

  it('changes with the steps: the same problem with other outcomes reads differently', () => {
    const allFailed = heuristicAssessment(
      { ...vpn, steps: vpn.steps.map((s) => ({ ...s, outcome: 'failed' as const })) },
      now,
    );
    expect(allFailed.likely_cause).toContain(
      'None of the 4 attempted fixes changed anything, so it is probably not where they looked.',
    );
    expect(allFailed.ruled_out).toHaveLength(4);
    expect(allFailed.suggested_next_steps[0]).toMatch(/^Confirm the regression/);

    const none = heuristicAssessment({ ...vpn, steps: [] }, now);
    expect(none.summary).toContain('Nothing has been recorded as tried yet.');
    expect(none.ruled_out).toEqual([]);
    expect(none.suggested_next_steps).toContain(
      'Reproduce the problem and record the first step and its outcome.',
    );
  });

  it('lets the steps that changed something decide the area', () => {
    // The summary alone says "slow"; the partial step is about the identity provider's certificate.
    const input: HeuristicInput = {
      handoff: { reason: 'Needs an identity specialist', severity: 'normal', intent: 'escalate' },
      session: {
        title: 'Dashboard slow for some users',
        problemSummary: 'Some users wait a long time.',
        customer: null,
      },
      steps: [
        {
          action: 'Re-uploaded the SAML certificate to the IdP',
          outcome: 'partial',
          notes: 'half the users can log in',
        },
      ],
    };
    const a = heuristicAssessment(input, now);
    expect(a.likely_cause).toMatch(/^Most likely the identity provider set-up/);
    expect(a.suggested_next_steps.join(' ')).not.toMatch(/Tell the customer now/);
  });

  it('says so when nothing points to an area', () => {
    const a = heuristicAssessment(
      {
        handoff: { reason: 'No idea', severity: 'low', intent: 'escalate' },
        session: { title: 'Odd', problemSummary: 'Something is off.', customer: null },
        steps: [],
      },
      now,
    );
    expect(a.likely_cause).toBe('The record does not point to one area yet.');
  });
});
