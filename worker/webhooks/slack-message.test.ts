import { describe, expect, it } from 'vitest';
import type { EscalationCard } from '../contract/events';
import { ageText, askedText, slackEscape, slackMessage } from './slack-message';

const card = (over: Partial<EscalationCard> & { notify?: unknown } = {}) =>
  ({
    id: 'h-1',
    severity: 'high',
    status: 'open',
    reason: 'stuck',
    created_at: '2026-01-01T00:00:00.000Z',
    picked_up_by: null,
    session: { title: 'VPN <drops>', problem_summary: 'p', customer: null },
    ...over,
  }) as EscalationCard;

const at = Date.parse('2026-01-01T00:00:00.000Z');

describe('Slack messages', () => {
  it('reads ages as a person would', () => {
    expect(ageText('2026-01-01T00:00:00.000Z', at + 42_000)).toBe('42 s');
    expect(ageText('2026-01-01T00:00:00.000Z', at + 5 * 60_000)).toBe('5 min');
    expect(ageText('2026-01-01T00:00:00.000Z', at + 125 * 60_000)).toBe('2 h 5 min');
    expect(ageText('2026-01-01T00:00:00.000Z', at + 3 * 3600_000)).toBe('3 h');
    expect(ageText('2026-01-01T00:00:00.000Z', at + 3 * 86_400_000)).toBe('3 d');
  });

  it('says who is asked: notify when cards carry it, else everyone', () => {
    expect(askedText(card())).toBe('everyone');
    expect(askedText(card({ notify: 'admins' }))).toBe('admins');
    expect(askedText(card({ notify: ['u-1'] }))).toBe('1 named person');
    expect(askedText(card({ notify: ['u-1', 'u-2'] }))).toBe('2 named people');
  });

  it('escapes Slack’s control characters', () => {
    expect(slackEscape('a < b & c > d')).toBe('a &lt; b &amp; c &gt; d');
  });

  it('an escalation: severity, title, age, asked, picked up by, and the button', () => {
    const msg = slackMessage(
      'escalation.picked_up',
      { card: card({ status: 'picked_up', picked_up_by: { id: 'u', name: 'Bob' } }) },
      at + 90_000,
      'https://sb.example/',
    );
    expect(msg.text).toBe('Escalation picked up (high): VPN <drops>, 1 min old, asking everyone');
    expect(JSON.stringify(msg.blocks)).toContain('VPN &lt;drops&gt;');
    expect(msg.blocks[1]).toMatchObject({
      fields: [
        { text: '*Severity*\n:large_orange_circle: High' },
        { text: '*Status*\npicked up' },
        { text: '*Age*\n1 min' },
        { text: '*Asking*\neveryone' },
        { text: '*Picked up by*\nBob' },
      ],
    });
    expect(msg.blocks[2]).toMatchObject({ elements: [{ url: 'https://sb.example/#/handoffs/h-1' }] });
  });

  it('no button without PUBLIC_URL; runs and pings have their own text', () => {
    expect(slackMessage('escalation.created', { card: card() }, at).blocks).toHaveLength(2);
    const paused = slackMessage(
      'run.paused',
      {
        node_id: 'ask',
        prompt: 'Which?',
        run: { id: 'r-1', status: 'paused', created_at: '2026-01-01T00:00:00.000Z' },
      },
      at + 1000,
      'https://sb.example',
    );
    expect(paused.text).toBe('Run waiting for input: asks: Which? (node ask)');
    expect(paused.blocks[2]).toMatchObject({ elements: [{ url: 'https://sb.example/#/runs/r-1' }] });
    expect(slackMessage('run.failed', { code: 'timeout', message: 'too slow', run: null }, at).text).toBe(
      'Run failed: timeout: too slow',
    );
    expect(slackMessage('ping', {}, at).text).toContain('test message');
  });
});
