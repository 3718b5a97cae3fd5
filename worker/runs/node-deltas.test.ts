import { describe, expect, it } from 'vitest';
import { type DeltaClock, NodeDeltas } from './node-deltas';

/** A clock the test moves; timers fire when it passes them. */
function manualClock() {
  let now = 1_000;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  const clock: DeltaClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = ++ids;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (;;) {
      const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      timers = timers.filter((t) => t !== due);
      due.fn();
    }
  };
  return { clock, advance, pendingTimers: () => timers.length };
}

function setup() {
  const c = manualClock();
  const sent: { runId: string; at: number; data: unknown }[] = [];
  const deltas = new NodeDeltas((runId, data) => sent.push({ runId, at: c.clock.now(), data }), c.clock, 50);
  return { ...c, sent, deltas };
}

describe('NodeDeltas', () => {
  it('sends the first piece at once, then coalesces to one frame per 50 ms per run', () => {
    const { deltas, sent, advance } = setup();
    deltas.begin('r1', 'answer');
    deltas.push('r1', 'answer', 'Hel');
    expect(sent).toEqual([
      { runId: 'r1', at: 1000, data: { node_id: 'answer', text: 'Hel', replace: true } },
    ]);
    advance(10);
    deltas.push('r1', 'answer', 'lo ');
    advance(10);
    deltas.push('r1', 'answer', 'wor');
    expect(sent).toHaveLength(1);
    advance(30);
    expect(sent[1]).toEqual({ runId: 'r1', at: 1050, data: { node_id: 'answer', text: 'lo wor' } });
    // Quiet for a while: the next piece goes at once.
    advance(200);
    deltas.push('r1', 'answer', 'ld');
    expect(sent[2]).toEqual({ runId: 'r1', at: 1250, data: { node_id: 'answer', text: 'ld' } });
    const gaps = sent.slice(1).map((s, i) => s.at - (sent[i]?.at ?? 0));
    expect(gaps.every((g) => g >= 50)).toBe(true);
  });

  it('coalesces per run: two runs stream side by side', () => {
    const { deltas, sent } = setup();
    deltas.push('a', 'n', 'x');
    deltas.push('b', 'n', 'y');
    expect(sent.map((s) => s.runId)).toEqual(['a', 'b']);
  });

  it('gives a newcomer the text sent so far, and the next frame only what came since', () => {
    const { deltas, sent, advance } = setup();
    deltas.push('r', 'n', 'one ');
    deltas.push('r', 'n', 'two ');
    // 'two ' is pending: the newcomer gets only what was sent, so nothing arrives twice.
    expect(deltas.sofar('r')).toEqual({ node_id: 'n', text: 'one ', replace: true });
    advance(50);
    expect(sent.at(-1)?.data).toEqual({ node_id: 'n', text: 'two ' });
    expect(deltas.sofar('r')).toEqual({ node_id: 'n', text: 'one two ', replace: true });
    expect(deltas.sofar('other')).toBeUndefined();
  });

  it('starts a new attempt afresh with replace, and drops what is pending when the node ends', () => {
    const { deltas, sent, advance, pendingTimers } = setup();
    deltas.push('r', 'n', 'first try ');
    deltas.push('r', 'n', 'broke');
    deltas.begin('r', 'n');
    expect(pendingTimers()).toBe(0);
    advance(100);
    deltas.push('r', 'n', 'second ');
    expect(sent.at(-1)?.data).toEqual({ node_id: 'n', text: 'second ', replace: true });
    deltas.push('r', 'n', 'unsent');
    deltas.end('r');
    advance(100);
    expect(sent.at(-1)?.data).toEqual({ node_id: 'n', text: 'second ', replace: true });
    expect(deltas.sofar('r')).toBeUndefined();
  });
});
