import { log } from '../lib/log';
import type { UsageCounter } from './hub-module';
import type { JobQueue } from './job-queue';

/** Counts per UTC day (`YYYY-MM-DD`). */
export type UsageByDay = Record<string, Partial<Record<UsageCounter, number>>>;

/** Writes counts to the account's roll-up (Postgres); injected by the wiring, so the host knows no domain. */
export type UsageSink = (accountId: string, days: UsageByDay) => Promise<void>;

/** The flush job: its id and kind (one per hub), its payload the counts not yet flushed. */
export const USAGE_FLUSH_JOB = 'usage-flush';

/** Counts in memory reach the job row this long after the first of them (before the hub can hibernate). */
const STASH_AFTER_MS = 2_000;
/** The roll-up is written at most this often. */
export const USAGE_FLUSH_EVERY_MS = 60_000;
/**
 * Counts that are not worth waking the database for (a subscriber reconnecting wakes the hub)
 * wait for the next flush that is, or this long.
 */
const IDLE_FLUSH_MS = 24 * 60 * 60_000;
/** Counters whose change alone schedules a flush within the minute. */
const QUIET: readonly UsageCounter[] = ['hub_wakeups', 'deliveries'];

export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function merge(into: UsageByDay, from: UsageByDay): UsageByDay {
  for (const [day, counts] of Object.entries(from)) {
    into[day] ??= {};
    const target = into[day];
    for (const [k, n] of Object.entries(counts) as [UsageCounter, number][]) target[k] = (target[k] ?? 0) + n;
  }
  return into;
}

/**
 * The hub's usage counters. `count` adds in memory only; a couple of seconds later the counts are
 * added to one job row (a single write however many events there were), which survives
 * hibernation; the job writes the roll-up to Postgres at most once a minute, and only when there
 * is something to write. Counts that are only wake-ups and deliveries (no event, run or call)
 * do not schedule a flush of their own, so a dashboard reconnecting to an idle account never
 * wakes the database.
 */
export class UsageMeter {
  private memory: UsageByDay = {};
  private stashing = false;

  constructor(
    private readonly jobs: JobQueue,
    private readonly hooks: {
      accountId: string;
      sink: UsageSink | undefined;
      armAlarm(): void;
      waitUntil(work: Promise<unknown>): void;
    },
  ) {}

  count(counter: UsageCounter, n: number, now = Date.now()): void {
    if (!(n > 0)) return;
    const key = utcDay(now);
    this.memory[key] ??= {};
    const day = this.memory[key];
    day[counter] = (day[counter] ?? 0) + n;
    if (this.stashing) return;
    this.stashing = true;
    this.hooks.waitUntil(
      new Promise<void>((resolve) =>
        setTimeout(() => {
          this.stash();
          resolve();
        }, STASH_AFTER_MS),
      ),
    );
  }

  /** Moves the in-memory counts into the flush job's payload and (re)times the job. */
  stash(now = Date.now()): void {
    this.stashing = false;
    const taken = this.memory;
    this.memory = {};
    if (Object.keys(taken).length === 0) return;
    const job = this.jobs.get(USAGE_FLUSH_JOB);
    const days = merge((job?.payload as { days?: UsageByDay } | undefined)?.days ?? {}, taken);
    const wanted = hasSignal(taken) ? now + USAGE_FLUSH_EVERY_MS : now + IDLE_FLUSH_MS;
    const runAt = job ? Math.min(job.runAt, wanted) : wanted;
    this.jobs.upsert(USAGE_FLUSH_JOB, USAGE_FLUSH_JOB, { days }, runAt);
    this.hooks.armAlarm();
  }

  /** What has been counted and not yet flushed (memory and the job row). */
  pending(): UsageByDay {
    const job = this.jobs.get(USAGE_FLUSH_JOB);
    return merge(merge({}, (job?.payload as { days?: UsageByDay } | undefined)?.days ?? {}), this.memory);
  }

  /** The flush job: takes the counts out of the row, writes them, puts them back if that failed. */
  async flush(now = Date.now()): Promise<void> {
    this.stash(now);
    const job = this.jobs.get(USAGE_FLUSH_JOB);
    if (!job) return;
    const days = (job.payload as { days?: UsageByDay }).days ?? {};
    // Taken before the write: counts that arrive meanwhile start a new row, never lost with this one.
    this.jobs.complete(USAGE_FLUSH_JOB);
    if (!this.hooks.sink || Object.keys(days).length === 0) return;
    try {
      await this.hooks.sink(this.hooks.accountId, days);
    } catch (err) {
      log('warn', 'usage flush failed; kept for the next attempt', { err });
      const again = this.jobs.get(USAGE_FLUSH_JOB);
      const merged = merge(
        merge({}, days),
        (again?.payload as { days?: UsageByDay } | undefined)?.days ?? {},
      );
      this.jobs.upsert(USAGE_FLUSH_JOB, USAGE_FLUSH_JOB, { days: merged }, now + USAGE_FLUSH_EVERY_MS);
      this.hooks.armAlarm();
    }
  }
}

const hasSignal = (days: UsageByDay) =>
  Object.values(days).some((counts) =>
    (Object.entries(counts) as [UsageCounter, number][]).some(([k, n]) => n > 0 && !QUIET.includes(k)),
  );
