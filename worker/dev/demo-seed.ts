import type { Config } from '../config';
import type { EscalationCard } from '../contract/events';
import type { HandoffStatus } from '../contract/statuses';
import type { Db } from '../db/client';
import { assessHandoff } from '../escalations/assessment';
import { loadCard } from '../escalations/cards';
import { fireTimers } from '../escalations/clock-store';
import { timersOf, type WantedTimer } from '../escalations/clock-timers';
import { createHandoff } from '../escalations/create-handoff';
import { transitionHandoff } from '../escalations/handoff-transitions';
import { deliverCommitted } from '../escalations/outbox';
import { currentPolicy } from '../escalations/policy-store';
import { storeGraphVersion } from '../graphs/graph-store';
import { validateGraph } from '../graphs/validate-graph';
import { hubFor } from '../hub/hub-client';
import type { HubEvent } from '../hub/hub-module';
import type { Identity } from '../lib/identity';
import { log } from '../lib/log';
import { provision } from '../lib/provision';
import { addDays, localDate, startOfDay } from '../lib/time-zone';
import { rerunFrom } from '../runs/run-rerun';
import { type RunStartSettings, startGraphRun } from '../runs/run-start';
import { findRun } from '../runs/run-store';
import type { RunSnapshot } from '../runs/run-types';
import { addStep, createSession } from '../sessions/session-store';
import { ANSWER_GRAPH, type DemoGraph, statusGraph, TRIAGE_GRAPH } from './demo-graphs';
import { accountIsEmpty, claimSeed, finishSeed, seedMark } from './demo-seed-store';
import { DEMO_TEAM, type DemoOp, demoStory, type Person } from './demo-story';

// The demo seed (dev only): a week of an account's history, made by the code real use runs.
// The story (demo-story.ts) is played in time order through the stores, each statement given the
// story's instant instead of the database's `now()` (db/clock.ts); the clocks' timers are fired
// by the same statement the hub's alarm runs, at their due time, whenever one falls due between
// two things people did; every committed change is then published through the outbox to the
// account's hub, oldest first. Graphs are stored the same way; runs are started live at the end,
// since a run's times are the hub's own clock. docs/demo.md explains it.

export interface SeedOptions {
  accountId: string;
  /** The reader's zone: the week's working days and hours are theirs. */
  tz: string;
  /** Where the status-page graph reads (`<statusUrl>/<product>`). */
  statusUrl: string;
  /** Only an account nothing has been made in (what `npm run dev` asks for). */
  ifEmpty: boolean;
  /** The end of the week (tests); default: now. */
  now?: number;
}

export interface SeedSummary {
  sessions: number;
  handoffs: number;
  by_status: Record<HandoffStatus, number>;
  timers_fired: number;
  events_published: number;
  graphs: { id: string; name: string }[];
  runs: { id: string; graph: string; note: string }[];
  took_ms: number;
}

export type SeedResult =
  | { seeded: true; summary: SeedSummary }
  | { seeded: false; reason: 'already_seeded'; started_at: string; finished_at: string | null }
  | { seeded: false; reason: 'not_empty' };

const MIN = 60_000;
const PUBLISH_BATCH = 100;

/** The story's people as the identities their tokens would carry in this account. */
const identities = (accountId: string) =>
  Object.fromEntries(
    Object.entries(DEMO_TEAM).map(([key, u]) => [
      key,
      { userId: u.id, accountId, role: u.role, name: u.name },
    ]),
  ) as Record<Person, Identity>;

export async function seedDemoAccount(
  env: Env,
  db: Db,
  config: Config,
  opts: SeedOptions,
): Promise<SeedResult> {
  const started = Date.now();
  const now = opts.now ?? started;
  const who = identities(opts.accountId);
  // Users come from tokens on first use; the story's people are "seen" once here.
  for (const person of Object.values(who)) await provision(db, person);
  const already = async (): Promise<SeedResult> => {
    const mark = await seedMark(db, opts.accountId);
    return {
      seeded: false,
      reason: 'already_seeded',
      started_at: (mark?.startedAt ?? new Date(0)).toISOString(),
      finished_at: mark?.finishedAt?.toISOString() ?? null,
    };
  };
  if (await seedMark(db, opts.accountId)) return already();
  if (opts.ifEmpty && !(await accountIsEmpty(db, opts.accountId)))
    return { seeded: false, reason: 'not_empty' };
  // Two seeds at once: one inserts the marker and goes on, the other stops here.
  if (!(await claimSeed(db, opts.accountId))) return already();
  const { policy } = await currentPolicy(db, opts.accountId);
  const story = demoStory(now, opts.tz, policy);
  const history = await playHistory(db, config, opts.accountId, who, story.ops, now);
  const published = await publishHistory(env, db, opts.accountId, history.events);
  const graphs = await storeGraphs(db, who, opts, now);
  const runs = await startRuns(env, db, config, who, graphs);
  const summary: SeedSummary = {
    sessions: story.expected.sessions,
    handoffs: story.expected.handoffs,
    by_status: story.expected.byStatus,
    timers_fired: history.timersFired,
    events_published: published,
    graphs: Object.values(graphs).map((g) => ({ id: g.id, name: g.name })),
    runs,
    took_ms: Date.now() - started,
  };
  await finishSeed(db, opts.accountId, summary);
  log('info', 'demo account seeded', {
    accountId: opts.accountId,
    ...summary,
    graphs: undefined,
    runs: runs.length,
  });
  return { seeded: true, summary };
}

interface Played {
  events: { at: number; event: HubEvent }[];
  timersFired: number;
}

/**
 * Plays the story in time order. Before each operation, every clock timer that fell due by then
 * is fired (the earliest first, as the hub's alarm would, a moment after its due time).
 */
async function playHistory(
  db: Db,
  config: Config,
  accountId: string,
  who: Record<Person, Identity>,
  ops: readonly DemoOp[],
  now: number,
): Promise<Played> {
  const sessions = new Map<string, string>();
  const cards = new Map<string, EscalationCard>();
  const events: Played['events'] = [];
  let timersFired = 0;
  // The alarm's lag behind a due time: a fixed, small spread, the same on every seed.
  let lagSeed = 0;
  const lag = () => 200 + ((lagSeed++ * 379) % 900);

  /** When each card last changed: its next change is later, whatever the alarm's lag. */
  const lastChange = new Map<string, number>();
  const keep = (at: number, event: HubEvent) => {
    events.push({ at, event });
    const card = (event.data as { card: EscalationCard }).card;
    cards.set(card.id, card);
    lastChange.set(card.id, at);
  };

  const nextDue = (before: number): WantedTimer | undefined => {
    let next: WantedTimer | undefined;
    for (const card of cards.values()) {
      for (const timer of timersOf(card).arm) {
        if (timer.runAt < before && (!next || timer.runAt < next.runAt)) next = timer;
      }
    }
    return next;
  };

  const fireDue = async (until: number) => {
    for (let timer = nextDue(until); timer; timer = nextDue(until)) {
      const after = Math.max(timer.runAt, (lastChange.get(timer.payload.handoffId) ?? 0) + 1);
      const at = Math.max(after, Math.min(timer.runAt + lag(), until - 1));
      const fired = await fireTimers(db, accountId, [timer.payload], new Date(at));
      if (fired.length === 0) {
        // The card no longer wants it: read it as it is, so it is not asked again.
        const card = await loadCard(db, accountId, timer.payload.handoffId);
        if (!card || timersOf(card).arm.some((t) => t.id === timer.id && t.runAt === timer.runAt)) {
          throw new Error(`demo seed: timer ${timer.id} neither fired nor went away`);
        }
        cards.set(card.id, card);
        continue;
      }
      timersFired++;
      for (const event of fired) keep(at, event);
    }
  };

  const handoffIds = new Map<string, string>();
  const idOf = (key: string) => {
    const id = handoffIds.get(key);
    if (!id) throw new Error(`demo seed: no hand-off ${key}`);
    return id;
  };

  for (const op of ops) {
    await fireDue(op.at);
    const at = new Date(op.at);
    switch (op.kind) {
      case 'session': {
        const row = await createSession(
          db,
          who[op.by],
          { title: op.title, problem_summary: op.summary, customer: op.customer },
          { at },
        );
        sessions.set(op.key, row.id);
        break;
      }
      case 'step': {
        const sessionId = sessions.get(op.session) as string;
        const added = await addStep(
          db,
          who[op.by],
          sessionId,
          { action: op.action, outcome: op.outcome, ...(op.notes ? { notes: op.notes } : {}) },
          { at },
        );
        if (!added.ok) throw new Error(`demo seed: step refused (${added.reason})`);
        break;
      }
      case 'handoff': {
        const created = await createHandoff(
          db,
          who[op.by],
          sessions.get(op.session) as string,
          {
            intent: op.intent,
            reason: op.reason,
            severity: op.severity,
            ...(op.to ? { to_user_id: DEMO_TEAM[op.to].id } : {}),
          },
          undefined,
          // The limit real users have: the story stays well inside it.
          config.MAX_HANDOFFS_PER_MINUTE,
          { at },
        );
        if (created.kind !== 'created') throw new Error(`demo seed: hand-off refused (${created.kind})`);
        handoffIds.set(op.key, created.card.id);
        keep(op.at, created.event);
        break;
      }
      case 'assess': {
        // The week's assessments are the heuristic's: a model would be asked sixty times, slowly.
        const outcome = await assessHandoff(db, null, accountId, idOf(op.handoff), { at });
        if (outcome.kind === 'assessed') keep(op.at, outcome.event);
        break;
      }
      case 'pickup':
      case 'resolve':
      case 'cancel':
      case 'release': {
        const result = await transitionHandoff(db, who[op.by], op.kind, idOf(op.handoff), {
          at,
          ...(op.kind === 'release' ? { reason: op.reason } : {}),
        });
        if (!result.ok) throw new Error(`demo seed: ${op.kind} of ${op.handoff} refused (${result.reason})`);
        keep(op.at, result.event);
        break;
      }
    }
  }
  await fireDue(now);
  return { events, timersFired };
}

/** Publishes the committed history to the account's hub through the outbox, oldest first. */
async function publishHistory(
  env: Env,
  db: Db,
  accountId: string,
  events: Played['events'],
): Promise<number> {
  const ordered = [...events].sort((a, b) => a.at - b.at).map((e) => e.event);
  const hub = hubFor(env, accountId);
  for (let i = 0; i < ordered.length; i += PUBLISH_BATCH) {
    const batch = ordered.slice(i, i + PUBLISH_BATCH);
    const ok = await deliverCommitted(db, accountId, batch, (list) => hub.publish(accountId, list));
    // Committed either way; the relay would deliver the rest, but a local stack may have no cron.
    if (!ok) throw new Error('demo seed: the account hub could not be reached to publish the history');
  }
  return ordered.length;
}

type StoredGraphs = Record<
  'triage' | 'status' | 'answer',
  { id: string; name: string; row: Awaited<ReturnType<typeof storedGraph>> }
>;

async function storedGraph(db: Db, who: Identity, graph: DemoGraph, at: Date) {
  const checked = validateGraph(graph.schema);
  if (!checked.ok)
    throw new Error(`demo seed: graph "${graph.name}" is invalid: ${checked.issues[0]?.message}`);
  const stored = await storeGraphVersion(db, who, graph.name, checked.graph, { at });
  if (!stored.ok) throw new Error(`demo seed: graph "${graph.name}" belongs to someone else`);
  return stored.row;
}

/** The three graphs, stored early in the week by Ada and Bob. */
async function storeGraphs(
  db: Db,
  who: Record<Person, Identity>,
  opts: SeedOptions,
  now: number,
): Promise<StoredGraphs> {
  const today = localDate(now, opts.tz);
  const morningOf = (daysAgo: number, hour: number) =>
    new Date(
      Math.min(now - 60 * MIN, startOfDay(addDays(today, -daysAgo), opts.tz).getTime() + hour * 60 * MIN),
    );
  const triage = await storedGraph(db, who.ada, TRIAGE_GRAPH, morningOf(6, 9 * 60 + 12));
  const status = await storedGraph(db, who.bob, statusGraph(opts.statusUrl), morningOf(5, 10 * 60 + 40));
  const answer = await storedGraph(db, who.ada, ANSWER_GRAPH, morningOf(3, 14 * 60 + 5));
  return {
    triage: { id: triage.id, name: triage.name, row: triage },
    status: { id: status.id, name: status.name, row: status },
    answer: { id: answer.id, name: answer.name, row: answer },
  };
}

/** A run the seed starts, and what it does with it once every run has started. */
interface DemoRun {
  by: Person;
  graph: keyof StoredGraphs;
  input: Record<string, unknown>;
  note: string;
  overrides?: Partial<RunStartSettings>;
  afterwards?: 'answer' | 'cancel' | 'rerun';
}

/** Nine runs started in this order; the rerun of the failed one is the tenth. */
const DEMO_RUNS: readonly DemoRun[] = [
  {
    by: 'alice',
    graph: 'triage',
    input: { customer: 'Acme Corp', summary: 'The VPN drops every five minutes.' },
    note: 'paused, waiting for Alice',
  },
  {
    by: 'bob',
    graph: 'triage',
    input: { customer: 'Globex', summary: 'SSO logins loop back to the sign-in page.' },
    note: 'answered by Bob',
    afterwards: 'answer',
  },
  {
    by: 'bob',
    graph: 'triage',
    input: { customer: 'Initech', summary: 'Duplicate ticket.' },
    note: 'cancelled while paused',
    afterwards: 'cancel',
  },
  { by: 'alice', graph: 'status', input: { product: 'vpn' }, note: 'an incident, explained' },
  { by: 'bob', graph: 'status', input: { product: 'sso' }, note: 'all clear' },
  { by: 'ada', graph: 'status', input: { product: 'billing' }, note: 'retrying a 503, then failing' },
  {
    by: 'alice',
    graph: 'status',
    input: { product: 'payroll' },
    note: 'failed: no such status page',
    afterwards: 'rerun',
  },
  {
    by: 'bob',
    graph: 'status',
    input: { product: 'billing' },
    note: 'timed out while retrying',
    overrides: { runTimeoutSeconds: 10 },
  },
  {
    by: 'alice',
    graph: 'answer',
    input: { question: 'How do I rotate a webhook signing secret without downtime?' },
    note: 'a streamed answer',
  },
];

/**
 * Ten runs, live: one paused and waiting for Alice, others answered, cancelled, completed, failed
 * at once, failing after retries (running meanwhile), timed out, streamed, and a rerun.
 */
async function startRuns(
  env: Env,
  db: Db,
  config: Config,
  who: Record<Person, Identity>,
  graphs: StoredGraphs,
): Promise<SeedSummary['runs']> {
  const accountId = who.alice.accountId;
  const hub = hubFor(env, accountId);
  const settings: RunStartSettings = {
    limits: {
      perUser: config.MAX_RUNS_PER_KEY,
      perAccount: config.MAX_RUNS_PER_ACCOUNT,
      pausedPerAccount: config.MAX_PAUSED_RUNS_PER_ACCOUNT,
    },
    runTimeoutSeconds: config.RUN_TIMEOUT_SECONDS,
    pauseTimeoutSeconds: config.PAUSE_TIMEOUT_SECONDS,
  };
  const runs: SeedSummary['runs'] = [];
  const until = async (runId: string, wanted: (s: RunSnapshot) => boolean) => {
    for (let i = 0; i < 150; i++) {
      const snap = (await hub.runSnapshot(runId)) as RunSnapshot | null;
      if (snap && wanted(snap)) return snap;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`demo seed: run ${runId} did not get there in time`);
  };

  // Each one on its own: a run that cannot be started or answered leaves the others be.
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      log('warn', `demo seed: ${what} did not work`, { err });
    }
  };
  const later: Partial<Record<NonNullable<DemoRun['afterwards']>, string>> = {};
  for (const run of DEMO_RUNS) {
    const graph = graphs[run.graph];
    await attempt(`the ${run.graph} run "${run.note}"`, async () => {
      const started = await startGraphRun(env, db, who[run.by], graph.row, run.input, {
        ...settings,
        ...run.overrides,
      });
      if (!started.ok) throw new Error(`demo seed: run of "${graph.name}" refused (${started.reason})`);
      runs.push({ id: started.run.id, graph: graph.name, note: run.note });
      if (run.afterwards) later[run.afterwards] = started.run.id;
    });
  }
  const { answer: answered, cancel: dropped, rerun: unknown } = later;
  if (answered) {
    await attempt('answering a paused run', async () => {
      await until(answered, (s) => s.status === 'paused');
      await hub.resumeRun(answered, 'sso', settings.limits);
    });
  }
  if (dropped) {
    await attempt('cancelling a paused run', async () => {
      await until(dropped, (s) => s.status === 'paused');
      await hub.cancelRun(dropped);
    });
  }
  if (unknown) {
    // The failed run, rerun from its lookup with the product corrected.
    await attempt('a rerun', async () => {
      await until(unknown, (s) => s.status === 'failed');
      const parent = await findRun(db, accountId, unknown);
      if (!parent) return;
      const rerun = await rerunFrom(
        env,
        db,
        who.alice,
        parent,
        { from_node: 'lookup', state_patch: { product: 'exports' } },
        settings,
      );
      if (rerun.ok)
        runs.push({ id: rerun.run.id, graph: graphs.status.name, note: 'a rerun of the failed one' });
    });
  }
  return runs;
}
