import type { HandoffIntent, HandoffStatus, Role, Severity } from '../contract/statuses';
import type { EscalationPolicy } from '../escalations/policy';
import { addDays, isWeekend, localDate, startOfDay } from '../lib/time-zone';
import { DEMO_PROBLEMS, type DemoProblem, type DemoStep } from './demo-problems';
import { DEMO_USERS } from './demo-users';

// The demo account's week, as a list of things people did, each at its time: open a session,
// record a step, escalate, pick up, release, resolve, cancel. Pure and deterministic for a given
// `now`, zone and policy: worker/dev/demo-seed.ts plays it through the real stores with their
// clock (docs/demo.md). The clocks' timers (warnings, breaches, re-escalations) are not in the
// list: the seed fires them when they fall due between these, as the hub would.

const [alice, bob, ada] = DEMO_USERS;

/** The people of the story: the three demo users who can sign in, and two more colleagues. */
export const DEMO_TEAM = {
  alice,
  bob,
  ada,
  priya: { id: '5b0a6d1e-0000-4000-8000-0000000091a0', name: 'Priya Natarajan', role: 'engineer' },
  marco: { id: '5b0a6d1e-0000-4000-8000-00000000a4c0', name: 'Marco Rossi', role: 'engineer' },
} as const satisfies Record<string, { id: string; name: string; role: Role }>;
export type Person = keyof typeof DEMO_TEAM;

export type DemoOp =
  | { kind: 'session'; at: number; key: string; by: Person; title: string; summary: string; customer: string }
  | ({ kind: 'step'; at: number; session: string; by: Person } & DemoStep)
  | {
      kind: 'handoff';
      at: number;
      key: string;
      session: string;
      by: Person;
      intent: HandoffIntent;
      severity: Severity;
      reason: string;
      to?: Person;
    }
  | { kind: 'assess'; at: number; handoff: string }
  | { kind: 'pickup' | 'resolve' | 'cancel'; at: number; handoff: string; by: Person }
  | { kind: 'release'; at: number; handoff: string; by: Person; reason: string };

export interface DemoStory {
  /** In time order; a card's own operations strictly so. */
  ops: DemoOp[];
  /** What the week ends with, for the seed's answer and its tests. */
  expected: { sessions: number; handoffs: number; byStatus: Record<HandoffStatus, number> };
}

/** How a hand-off goes. The first eight end before now; the last four are still going on now. */
type Kind =
  | 'fast'
  | 'slow'
  | 'late'
  | 'resolve_late'
  | 'released'
  | 'transfer'
  | 'cancelled'
  | 'cancelled_after_pickup'
  | 'working'
  | 'waiting'
  | 'waiting_transfer'
  | 'released_waiting';

interface Spec {
  severity: Severity;
  kind: Kind;
  /** Still going on: created this long ago (ms). */
  age?: number;
  /** `working`: when it was picked up, as a share of the pick-up window. */
  pickedAt?: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;

const times = (n: number, spec: Spec): Spec[] => Array.from({ length: n }, () => ({ ...spec }));

/** The 42 hand-offs closed before now: every way a card ends, in every severity. */
const CLOSED: readonly Spec[] = [
  ...times(1, { severity: 'urgent', kind: 'fast' }),
  ...times(4, { severity: 'high', kind: 'fast' }),
  ...times(9, { severity: 'normal', kind: 'fast' }),
  ...times(4, { severity: 'low', kind: 'fast' }),
  { severity: 'urgent', kind: 'slow' },
  { severity: 'high', kind: 'slow' },
  ...times(2, { severity: 'normal', kind: 'slow' }),
  { severity: 'low', kind: 'slow' },
  ...times(2, { severity: 'urgent', kind: 'late' }),
  ...times(2, { severity: 'high', kind: 'late' }),
  { severity: 'normal', kind: 'late' },
  { severity: 'high', kind: 'resolve_late' },
  { severity: 'normal', kind: 'resolve_late' },
  { severity: 'low', kind: 'resolve_late' },
  { severity: 'urgent', kind: 'released' },
  { severity: 'high', kind: 'released' },
  { severity: 'normal', kind: 'released' },
  { severity: 'high', kind: 'transfer' },
  { severity: 'normal', kind: 'transfer' },
  { severity: 'high', kind: 'cancelled' },
  ...times(2, { severity: 'normal', kind: 'cancelled' }),
  { severity: 'low', kind: 'cancelled' },
  { severity: 'normal', kind: 'cancelled_after_pickup' },
  { severity: 'low', kind: 'cancelled_after_pickup' },
];

/**
 * The 18 still going on: picked up and being worked on (some of their resolve clocks warning),
 * and waiting in the queue at every stage of their clocks: fresh, warning, breached and
 * re-escalated, one transferred to Alice, one released back. Some fall due minutes after the seed,
 * so the first minute shows a live breach and re-escalation.
 */
const ANCHORED: readonly Spec[] = [
  { severity: 'urgent', kind: 'working', age: 3.3 * HOUR, pickedAt: 0.3 },
  { severity: 'high', kind: 'working', age: 5 * HOUR, pickedAt: 0.4 },
  { severity: 'high', kind: 'working', age: 20 * HOUR, pickedAt: 0.5 },
  { severity: 'normal', kind: 'working', age: 3 * HOUR, pickedAt: 0.2 },
  { severity: 'normal', kind: 'working', age: 10 * HOUR, pickedAt: 1.6 },
  { severity: 'normal', kind: 'working', age: 21 * HOUR, pickedAt: 0.5 },
  { severity: 'low', kind: 'working', age: 30 * HOUR, pickedAt: 0.3 },
  { severity: 'low', kind: 'working', age: 64 * HOUR, pickedAt: 0.6 },
  { severity: 'urgent', kind: 'waiting', age: 41 * MIN },
  { severity: 'urgent', kind: 'waiting', age: 12 * MIN },
  { severity: 'high', kind: 'waiting', age: 13.5 * MIN },
  { severity: 'high', kind: 'waiting', age: 5 * MIN },
  { severity: 'normal', kind: 'waiting', age: 50 * MIN },
  { severity: 'normal', kind: 'waiting', age: 9 * MIN },
  { severity: 'low', kind: 'waiting', age: 26 * HOUR },
  { severity: 'low', kind: 'waiting', age: 5 * HOUR },
  { severity: 'normal', kind: 'waiting_transfer', age: 22 * MIN },
  { severity: 'high', kind: 'released_waiting', age: 52 * MIN },
];

/**
 * The kinds picked up once and then resolved, and when they are picked up as a share of the
 * pick-up window: well inside it, near its end, past it (a breach), or a transfer taken in time.
 */
const PICKED_UP_WITHIN = {
  fast: [0.1, 0.5],
  slow: [0.8, 0.95],
  late: [1.3, 3],
  transfer: [0.2, 0.6],
} as const satisfies Partial<Record<Kind, readonly [number, number]>>;

const FINAL_STATUS: Record<Kind, HandoffStatus> = {
  fast: 'resolved',
  slow: 'resolved',
  late: 'resolved',
  resolve_late: 'resolved',
  released: 'resolved',
  transfer: 'resolved',
  cancelled: 'cancelled',
  cancelled_after_pickup: 'cancelled',
  working: 'picked_up',
  waiting: 'open',
  waiting_transfer: 'open',
  released_waiting: 'open',
};

const RELEASE_REASONS = [
  'Going into a long customer call: back to the queue',
  'Needs database access I do not have',
  'End of my shift; my notes are in the session',
];

/** mulberry32: a small seeded generator, so the same `now` gives the same week. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One hand-off's operations as offsets (ms) from its creation, before it is placed in time. */
interface Relative {
  ops: { dt: number; op: RelOp }[];
  /** When its last operation happens, relative to creation. */
  duration: number;
}
type RelOp =
  | { kind: 'assess' }
  | { kind: 'pickup' | 'resolve' | 'cancel'; by: Person }
  | { kind: 'release'; by: Person; reason: string }
  | ({ kind: 'step'; by: Person } & DemoStep);

export function demoStory(nowMs: number, tz: string, policy: EscalationPolicy): DemoStory {
  const rand = generator(20_261_121);
  const between = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const shuffled = <T>(list: readonly T[]): T[] => {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  };
  const windows = (s: Severity) => ({
    P: policy.severities[s].pickup_seconds * 1000,
    R: policy.severities[s].resolve_seconds * 1000,
  });
  const helpers: readonly Person[] = ['bob', 'priya', 'marco', 'alice', 'ada'];
  const otherThan = (who: Person, list: readonly Person[] = helpers) => pick(list.filter((p) => p !== who));

  /** Picked up at `pickup`, worked on (the follow-up step), resolved `workMs` later. */
  function workAndResolve(
    rel: Relative,
    pickup: number,
    workMs: number,
    by: Person,
    problem: DemoProblem,
    close: 'resolve' | 'cancel' = 'resolve',
  ) {
    rel.ops.push({ dt: pickup, op: { kind: 'pickup', by } });
    const step = problem.followUp[0];
    if (step && close === 'resolve') {
      rel.ops.push({
        dt: pickup + Math.min(workMs / 2, between(5, 25) * MIN),
        op: { kind: 'step', by, ...step },
      });
    }
    rel.ops.push({ dt: pickup + workMs, op: { kind: close, by } });
  }

  function relative(spec: Spec, creator: Person, picker: Person, problem: DemoProblem): Relative {
    const { P, R } = windows(spec.severity);
    const rel: Relative = { ops: [{ dt: between(2, 6) * 1000, op: { kind: 'assess' } }], duration: 0 };
    const resolveWork = () => between(0.05, 0.3) * R;
    switch (spec.kind) {
      case 'fast':
      case 'slow':
      case 'late':
      case 'transfer': {
        const [lo, hi] = PICKED_UP_WITHIN[spec.kind];
        workAndResolve(rel, between(lo, hi) * P, resolveWork(), picker, problem);
        break;
      }
      case 'resolve_late': {
        const pickup = between(0.2, 0.4) * P;
        workAndResolve(rel, pickup, between(1.05, 1.3) * R - pickup, picker, problem);
        break;
      }
      case 'released': {
        const first = between(0.2, 0.4) * P;
        const release = first + between(10, 30) * MIN;
        rel.ops.push({ dt: first, op: { kind: 'pickup', by: picker } });
        rel.ops.push({ dt: release, op: { kind: 'release', by: picker, reason: pick(RELEASE_REASONS) } });
        workAndResolve(rel, release + between(2, 8) * MIN, resolveWork(), otherThan(picker), problem);
        break;
      }
      case 'cancelled':
        rel.ops.push({ dt: between(0.2, 0.8) * P, op: { kind: 'cancel', by: creator } });
        break;
      case 'cancelled_after_pickup':
        workAndResolve(rel, between(0.2, 0.4) * P, between(20, 60) * MIN, picker, problem, 'cancel');
        break;
      case 'working': {
        const pickup = (spec.pickedAt ?? 0.3) * P;
        const age = spec.age ?? 0;
        rel.ops.push({ dt: pickup, op: { kind: 'pickup', by: picker } });
        const step = problem.followUp[0];
        const stepAt = pickup + Math.min(20 * MIN, (age - pickup) / 2);
        if (step) {
          rel.ops.push({
            dt: stepAt,
            op: {
              kind: 'step',
              by: picker,
              action: step.action,
              outcome: 'partial',
              notes: 'testing it with the customer',
            },
          });
        }
        break;
      }
      case 'released_waiting': {
        const age = spec.age ?? 0;
        rel.ops.push({ dt: 0.3 * P, op: { kind: 'pickup', by: picker } });
        rel.ops.push({
          dt: age - 11 * MIN,
          op: { kind: 'release', by: picker, reason: RELEASE_REASONS[0] as string },
        });
        break;
      }
      case 'waiting':
      case 'waiting_transfer':
        break;
    }
    rel.duration = Math.max(...rel.ops.map((o) => o.dt));
    return rel;
  }

  // Sessions: 4 solved without help, 16 escalated once, 16 twice, 4 three times: 40 and 60.
  const closed = shuffled(CLOSED);
  const anchored = [...ANCHORED];
  const layouts: ('C' | 'A')[][] = [
    ...Array.from({ length: 4 }, () => []),
    ...Array.from({ length: 10 }, () => ['A' as const]),
    ...Array.from({ length: 6 }, () => ['C' as const]),
    ...Array.from({ length: 6 }, () => ['C' as const, 'A' as const]),
    ...Array.from({ length: 10 }, () => ['C' as const, 'C' as const]),
    ...Array.from({ length: 2 }, () => ['C' as const, 'C' as const, 'A' as const]),
    ...Array.from({ length: 2 }, () => ['C' as const, 'C' as const, 'C' as const]),
  ];
  const problems = shuffled(
    Array.from({ length: layouts.length }, (_, i) => ({
      problem: DEMO_PROBLEMS[i % DEMO_PROBLEMS.length] as DemoProblem,
      customer: (DEMO_PROBLEMS[i % DEMO_PROBLEMS.length] as DemoProblem).customers[
        Math.floor(i / DEMO_PROBLEMS.length) % 2
      ] as string,
    })),
  );
  const creators: readonly Person[] = [
    'alice',
    'bob',
    'priya',
    'marco',
    'alice',
    'bob',
    'priya',
    'marco',
    'ada',
  ];

  // Past days in the reader's zone, weekdays busier than weekends, in working hours. Today's
  // hand-offs are mostly the ones still going on, so few of the closed ones start today.
  const today = localDate(nowMs, tz);
  const days = [6, 5, 4, 3, 2, 1, 0].map((ago) => addDays(today, -ago));
  const weights = days.map((d) => (d === today ? 0.15 : isWeekend(d) ? 0.3 : 1));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  /** A working hour of the week, at least two hours before now. */
  const workingHoursStart = (): number => {
    for (let attempt = 0; ; attempt++) {
      let x = rand() * totalWeight;
      let i = 0;
      while (i < days.length - 1 && x >= (weights[i] as number)) x -= weights[i++] as number;
      const t = startOfDay(days[i] as string, tz).getTime() + between(8.5, 17.5) * HOUR;
      if (t < nowMs - 2 * HOUR || attempt > 50) return Math.min(t, nowMs - 2 * HOUR);
    }
  };

  const weekStart = startOfDay(days[0] as string, tz).getTime() + 8 * HOUR;

  const ops: (DemoOp & { seq: number })[] = [];
  let seq = 0;
  const add = (op: DemoOp) => ops.push({ ...op, seq: seq++ });
  let handoffCount = 0;
  const byStatus: Record<HandoffStatus, number> = { open: 0, picked_up: 0, resolved: 0, cancelled: 0 };

  layouts.forEach((layout, index) => {
    const { problem, customer } = problems[index] as { problem: DemoProblem; customer: string };
    const sessionKey = `s${index}`;
    const specs = layout.map((slot) => (slot === 'A' ? anchored.shift() : closed.shift()) as Spec);
    // Bob opened the session he transfers to Alice.
    const creator: Person = specs.some((s) => s.kind === 'waiting_transfer')
      ? 'bob'
      : (creators[index % creators.length] as Person);
    const pickers = specs.map((spec) =>
      spec.kind === 'waiting_transfer'
        ? 'alice'
        : otherThan(creator, ['bob', 'priya', 'marco', 'ada', 'alice']),
    );
    const rels = specs.map((spec, i) => relative(spec, creator, pickers[i] as Person, problem));
    const prep = between(20, 75) * MIN;
    const gapBefore = specs.map((_, i) => (i === 0 ? 0 : between(3, 30) * HOUR));
    const last = specs.at(-1);
    const fromWorkingHour = workingHoursStart() + prep;
    // Creation times: backwards from now for a chain that ends in a card still going on, else
    // forwards from a working hour of the week, moved back if it would not be over by now.
    const place = (): number[] => {
      const starts: number[] = [];
      if (last?.age !== undefined) {
        let t = nowMs - last.age;
        for (let i = specs.length - 1; i >= 0; i--) {
          starts[i] = t;
          if (i > 0) t -= (gapBefore[i] as number) + (rels[i - 1] as Relative).duration;
        }
        return starts;
      }
      let t = fromWorkingHour;
      specs.forEach((_, i) => {
        if (i > 0) t += (rels[i - 1] as Relative).duration + (gapBefore[i] as number);
        starts[i] = t;
      });
      const end = specs.length === 0 ? t : t + (rels.at(-1) as Relative).duration;
      const latest = nowMs - between(20, 90) * MIN;
      return end > latest ? starts.map((x) => x - (end - latest)) : starts;
    };
    let starts = place();
    // A long chain (a low card resolved late takes days) may start before the week: shorter gaps.
    const early = weekStart - ((starts[0] ?? fromWorkingHour) - prep);
    if (early > 0 && specs.length > 1) {
      const total = gapBefore.reduce((a, b) => a + b, 0);
      for (let i = 1; i < gapBefore.length; i++) {
        gapBefore[i] = Math.max(HOUR, (gapBefore[i] as number) - (early * (gapBefore[i] as number)) / total);
      }
      starts = place();
    }
    const sessionStart = (specs.length > 0 ? (starts[0] as number) : fromWorkingHour) - prep;
    add({
      kind: 'session',
      at: sessionStart,
      key: sessionKey,
      by: creator,
      title: problem.title,
      summary: problem.summary,
      customer,
    });
    problem.tried.forEach((step, i) => {
      add({
        kind: 'step',
        at: sessionStart + ((i + 1) * prep) / (problem.tried.length + 1),
        session: sessionKey,
        by: creator,
        ...step,
      });
    });
    if (specs.length === 0) {
      for (const step of problem.followUp)
        add({ kind: 'step', at: sessionStart + prep, session: sessionKey, by: creator, ...step });
    }
    specs.forEach((spec, i) => {
      const t0 = starts[i] as number;
      const key = `h${handoffCount++}`;
      byStatus[FINAL_STATUS[spec.kind]]++;
      if (i > 0) {
        add({
          kind: 'step',
          at: t0 - between(3, 15) * MIN,
          session: sessionKey,
          by: creator,
          action: 'Checked with the customer whether the fix held',
          outcome: 'failed',
          notes: 'it came back',
        });
      }
      const reason = problem.reasons[i % problem.reasons.length] as string;
      const transfer = spec.kind === 'transfer' || spec.kind === 'waiting_transfer';
      add({
        kind: 'handoff',
        at: t0,
        key,
        session: sessionKey,
        by: creator,
        intent: transfer ? 'transfer' : 'escalate',
        severity: spec.severity,
        reason:
          i > 0 ? `Came back after the fix: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}` : reason,
        ...(transfer ? { to: pickers[i] as Person } : {}),
      });
      for (const { dt, op } of (rels[i] as Relative).ops) {
        const at = Math.round(t0 + dt);
        if (op.kind === 'step') {
          const { kind: _, by, ...step } = op;
          add({ kind: 'step', at, session: sessionKey, by, ...step });
        } else if (op.kind === 'assess') add({ kind: 'assess', at, handoff: key });
        else if (op.kind === 'release')
          add({ kind: 'release', at, handoff: key, by: op.by, reason: op.reason });
        else add({ kind: op.kind, at, handoff: key, by: op.by });
      }
    });
  });

  ops.sort((a, b) => a.at - b.at || a.seq - b.seq);
  return {
    ops: ops.map(({ seq: _, ...op }) => ({ ...op, at: Math.round(op.at) }) as DemoOp),
    expected: { sessions: layouts.length, handoffs: handoffCount, byStatus },
  };
}
