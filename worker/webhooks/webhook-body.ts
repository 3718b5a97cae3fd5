import { isTerminalStatus, type WebhookFormat } from '../contract/statuses';
import type { Db } from '../db/client';
import { findRun } from '../runs/run-store';
import { runIdOfTopic } from '../runs/run-types';
import { runJson } from '../runs/run-view';
import { slackMessage } from './slack-message';

// The body of a delivery: `{type, timestamp, data}` (Standard Webhooks) or a Slack message.
// Escalation events carry their stream `data` ({card, version}) as logged. Run events carry their
// stream data plus `run`, the run's status object as `GET /v1/runs/:id/status` answers it. That
// object is read from Postgres through the runs presenter (run-view.ts), not from the runs
// module's registry: this module depends on no other module's internals. Postgres gets each
// transition from the hub's `run-sync` job a moment after the event, so the body waits (without
// counting an attempt) until the row has caught up with the event, for at most RUN_CATCH_UP_MS.

/** How long a run event's delivery waits for Postgres to show the state the event announced. */
export const RUN_CATCH_UP_MS = 2 * 60_000;
/** How often it looks again meanwhile. */
export const RUN_CATCH_UP_POLL_MS = 1_000;

export interface BodySource {
  type: string;
  topic: string | null;
  at: number;
  data: unknown;
}

/** A delivery's `data`: the event's own, plus `run` for a run event once Postgres caught up. */
export type EventData = { kind: 'data'; data: unknown } | { kind: 'wait' };

/** Whether the run's row shows the state `type` announced (or one after it). */
function caughtUp(type: string, status: string): boolean {
  if (type === 'run.paused') return status !== 'queued' && status !== 'running';
  return isTerminalStatus(status);
}

/** What every endpoint of the event is sent, whatever its format; a run event reads Postgres. */
export async function eventData(
  source: BodySource,
  opts: { accountId: string; db: () => Db; now: number },
): Promise<EventData> {
  const runId = source.topic ? runIdOfTopic(source.topic) : null;
  if (!runId || !source.type.startsWith('run.')) return { kind: 'data', data: source.data };
  const row = await findRun(opts.db(), opts.accountId, runId);
  if ((!row || !caughtUp(source.type, row.status)) && opts.now - source.at < RUN_CATCH_UP_MS) {
    return { kind: 'wait' };
  }
  return { kind: 'data', data: { ...(source.data as object), run: row ? runJson(row) : null } };
}

/** The bytes sent to an endpoint of this format. */
export function renderBody(
  source: BodySource,
  data: unknown,
  format: WebhookFormat,
  publicUrl: string | undefined,
): string {
  if (format === 'slack') return JSON.stringify(slackMessage(source.type, data, source.at, publicUrl));
  return JSON.stringify({ type: source.type, timestamp: new Date(source.at).toISOString(), data });
}

/**
 * The `data` of events being delivered, shared by their deliveries: an event for five endpoints
 * reads its run's row from Postgres once, not five times, and deliveries that run side by side
 * wait on the same read. In memory and bounded (oldest out first, by count and by size): a
 * restarted hub reads once more, which is all the memo saves, and a retry sends the body frozen in
 * its job anyway. A `wait` or a failure is not kept, so the next look asks Postgres again.
 */
export class EventDataMemo {
  private readonly entries = new Map<string, { value: Promise<EventData>; chars: number }>();
  private chars = 0;

  constructor(
    private readonly maxEntries = 64,
    private readonly maxChars = 2_000_000,
  ) {}

  get(key: string, resolve: () => Promise<EventData>): Promise<EventData> {
    const hit = this.entries.get(key);
    if (hit) return hit.value;
    const entry = { value: resolve(), chars: 0 };
    this.entries.set(key, entry);
    const drop = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    entry.value.then((r) => {
      if (r.kind === 'wait') return drop();
      if (this.entries.get(key) !== entry) return;
      entry.chars = JSON.stringify(r.data)?.length ?? 0;
      this.chars += entry.chars;
      this.trim();
    }, drop);
    this.trim();
    return entry.value;
  }

  get size(): number {
    return this.entries.size;
  }

  private trim(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.chars <= this.maxChars) return;
      this.entries.delete(key);
      this.chars -= entry.chars;
    }
  }
}
