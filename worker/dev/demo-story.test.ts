import { describe, expect, it } from 'vitest';
import { SEVERITIES } from '../contract/statuses';
import { DEFAULT_ESCALATION_POLICY } from '../escalations/policy';
import { localDate } from '../lib/time-zone';
import { type DemoOp, demoStory } from './demo-story';

const now = Date.parse('2026-11-30T10:15:00Z');
const DAY = 86_400_000;

describe('the demo week', () => {
  for (const tz of ['Europe/Paris', 'America/Los_Angeles', 'Asia/Tokyo']) {
    describe(`in ${tz}`, () => {
      const story = demoStory(now, tz, DEFAULT_ESCALATION_POLICY);
      const of = <K extends DemoOp['kind']>(kind: K) =>
        story.ops.filter((o): o is Extract<DemoOp, { kind: K }> => o.kind === kind);

      it('has about 40 sessions and 60 hand-offs, in every status and severity', () => {
        expect(of('session')).toHaveLength(40);
        expect(of('handoff')).toHaveLength(60);
        expect(story.expected).toEqual({
          sessions: 40,
          handoffs: 60,
          byStatus: { open: 10, picked_up: 8, resolved: 36, cancelled: 6 },
        });
        expect(new Set(of('handoff').map((h) => h.severity))).toEqual(new Set(SEVERITIES));
        expect(of('handoff').filter((h) => h.intent === 'transfer').length).toBeGreaterThanOrEqual(2);
        expect(of('release').length).toBeGreaterThanOrEqual(4);
        expect(new Set(of('step').map((s) => s.outcome))).toEqual(
          new Set(['worked', 'failed', 'partial', 'unknown']),
        );
      });

      it('happens in the past week, before now, in time order', () => {
        const ats = story.ops.map((o) => o.at);
        expect(ats).toEqual([...ats].sort((a, b) => a - b));
        expect(Math.max(...ats)).toBeLessThan(now);
        expect(Math.min(...ats)).toBeGreaterThan(now - 8 * DAY);
        // Hand-offs on at least six of the seven local days.
        expect(new Set(of('handoff').map((h) => localDate(h.at, tz))).size).toBeGreaterThanOrEqual(6);
      });

      it('creates each card before anything happens to it, and gives it one life', () => {
        const created = new Map(of('handoff').map((h) => [h.key, h.at]));
        const closed = new Set<string>();
        for (const op of story.ops) {
          if (!('handoff' in op)) continue;
          const at = created.get(op.handoff);
          expect(at).toBeDefined();
          expect(op.at).toBeGreaterThan(at as number);
          expect(closed.has(op.handoff)).toBe(false);
          if (op.kind === 'resolve' || op.kind === 'cancel') closed.add(op.handoff);
        }
        for (const h of of('handoff')) expect(of('assess').some((a) => a.handoff === h.key)).toBe(true);
      });

      it('stays within what a person may do: a few hand-offs a minute at most', () => {
        const byUser = new Map<string, number[]>();
        for (const h of of('handoff')) byUser.set(h.by, [...(byUser.get(h.by) ?? []), h.at]);
        for (const ats of byUser.values()) {
          for (const t of ats)
            expect(ats.filter((u) => u > t - 60_000 && u <= t).length).toBeLessThanOrEqual(2);
        }
      });
    });
  }

  it('is the same week for the same now and zone', () => {
    const a = demoStory(now, 'Europe/Paris', DEFAULT_ESCALATION_POLICY);
    expect(demoStory(now, 'Europe/Paris', DEFAULT_ESCALATION_POLICY)).toEqual(a);
  });
});
