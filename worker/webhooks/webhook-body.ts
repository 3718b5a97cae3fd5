import { isTerminalStatus, type WebhookFormat } from '../contract/statuses';
import type { Db } from '../db/client';
import { findRun } from '../runs/run-store';
import { runJson } from '../runs/run-view';
import { runIdOfTopic } from './event-types';
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

export type BuiltBody = { kind: 'body'; body: string } | { kind: 'wait' };

/** Whether the run's row shows the state `type` announced (or one after it). */
function caughtUp(type: string, status: string): boolean {
  if (type === 'run.paused') return status !== 'queued' && status !== 'running';
  return isTerminalStatus(status);
}

export async function buildBody(
  source: BodySource,
  format: WebhookFormat,
  opts: { accountId: string; db: () => Db; publicUrl: string | undefined; now: number },
): Promise<BuiltBody> {
  let data = source.data;
  const runId = source.topic ? runIdOfTopic(source.topic) : null;
  if (runId && source.type.startsWith('run.')) {
    const row = await findRun(opts.db(), opts.accountId, runId);
    if ((!row || !caughtUp(source.type, row.status)) && opts.now - source.at < RUN_CATCH_UP_MS) {
      return { kind: 'wait' };
    }
    data = { ...(source.data as object), run: row ? runJson(row) : null };
  }
  if (format === 'slack') {
    return { kind: 'body', body: JSON.stringify(slackMessage(source.type, data, source.at, opts.publicUrl)) };
  }
  return {
    kind: 'body',
    body: JSON.stringify({ type: source.type, timestamp: new Date(source.at).toISOString(), data }),
  };
}
