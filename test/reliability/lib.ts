// Shared pieces of the reliability suite: result bookkeeping, publishers, subscriber groups and
// the end-of-phase checks (every subscriber saw every id of the topic exactly once, in order).
import { call, type Reply, sleep } from '../../bench/lib/http';
import { Subscriber } from '../../bench/lib/sse-client';
import type { Stack } from './stack';

export interface PhaseResult {
  phase: string;
  ok: boolean;
  detail: string;
  lost: number;
  duplicates: number;
  requests: number;
  failures: string[];
  /** Phases that try inputs (fuzzing, properties): how many, 5xx answers, answers leaking internal text. */
  inputs?: number;
  serverErrors?: number;
  leaks?: number;
}

export const log = (m: string) =>
  console.error(`[reliability +${((Date.now() - t0) / 1000).toFixed(0)}s] ${m}`);
const t0 = Date.now();

export interface Account {
  accountId: string;
  token: string;
}

export async function lastEventId(stack: Stack, token: string): Promise<number> {
  const res = await call(stack.url, 'GET', '/v1/escalations?limit=1', { token });
  if (res.status !== 200)
    throw new Error(`GET /v1/escalations answered ${res.status}: ${res.text.slice(0, 200)}`);
  return (res.json as { last_event_id: number }).last_event_id;
}

/** Waits (bounded) until the topic's last id stops moving (assessments arrive after creates). */
export async function settledLastId(
  stack: Stack,
  token: string,
  quietMs = 2_500,
  maxMs = 60_000,
): Promise<number> {
  const end = Date.now() + maxMs;
  let last = await lastEventId(stack, token);
  let since = Date.now();
  while (Date.now() < end) {
    await sleep(250);
    const now = await lastEventId(stack, token).catch(() => last);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) break;
  }
  return last;
}

/** A reference subscriber that also records which card ids were created, and how often. */
export function createdCounter() {
  const created = new Map<string, number>();
  const onEvent = (f: { event?: string; data?: string }) => {
    if (f.event !== 'escalation.created' || !f.data) return;
    const id = (JSON.parse(f.data) as { card: { id: string } }).card.id;
    created.set(id, (created.get(id) ?? 0) + 1);
  };
  return { created, onEvent };
}

export async function openSubscribers(
  stack: Stack,
  token: string,
  n: number,
  from: number,
  extra: { onEvent?: (f: { event?: string; data?: string }) => void } = {},
): Promise<Subscriber[]> {
  const subs = Array.from(
    { length: n },
    (_, i) =>
      new Subscriber({
        base: stack.url,
        path: '/v1/escalations/stream',
        token,
        lastEventId: from,
        reconnect: true,
        ...(i === 0 && extra.onEvent ? { onEvent: extra.onEvent } : {}),
      }),
  );
  for (let i = 0; i < subs.length; i += 25) await Promise.all(subs.slice(i, i + 25).map((s) => s.open()));
  return subs;
}

/**
 * Waits (bounded) until every subscriber reached `last`, then counts: lost = ids never seen
 * (gaps plus the shortfall to `last`), duplicates = ids seen twice or out of order.
 */
export async function verifySubscribers(subs: Subscriber[], from: number, last: number, maxWaitMs = 60_000) {
  const end = Date.now() + maxWaitMs;
  while (Date.now() < end && subs.some((s) => (s.lastId ?? from) < last)) await sleep(100);
  let lost = 0;
  let duplicates = 0;
  let resets = 0;
  const problems: string[] = [];
  for (const [i, s] of subs.entries()) {
    const shortfall = Math.max(0, last - (s.lastId ?? from));
    const firstGap = s.firstId !== undefined && s.firstId !== from + 1 ? 1 : 0;
    lost += s.gaps + shortfall + (firstGap ? Math.max(0, (s.firstId ?? 0) - from - 1) : 0);
    duplicates += s.duplicates;
    resets += s.resets;
    if ((s.gaps || shortfall || s.duplicates || firstGap || s.resets) && problems.length < 5) {
      problems.push(
        `subscriber ${i}: first ${s.firstId} last ${s.lastId} (expected ${from + 1}..${last}), gaps ${s.gaps} (missing from ${s.missing.join(',')}), dup ${s.duplicates}, resets ${s.resets}`,
      );
    }
  }
  return {
    lost,
    duplicates,
    resets,
    problems,
    reconnects: subs.reduce((a, s) => a + Math.max(0, s.connects - 1), 0),
  };
}

export interface PublisherStats {
  statuses: Map<number, number>;
  networkErrors: number;
  created: string[];
  badErrors: string[];
  requests: number;
}

/** `n` publishers, each with its own session, escalating until `stop()` returns true. */
export async function runPublishers(
  stack: Stack,
  token: string,
  n: number,
  stop: () => boolean,
  opts: { pauseMs?: number; sessionIds?: string[] } = {},
): Promise<PublisherStats> {
  const stats: PublisherStats = {
    statuses: new Map(),
    networkErrors: 0,
    created: [],
    badErrors: [],
    requests: 0,
  };
  const sessions =
    opts.sessionIds ??
    (await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await call(stack.url, 'POST', '/v1/sessions', {
          token,
          body: { title: `publisher ${i}`, problem_summary: 'reliability load' },
        });
        if (res.status !== 201) throw new Error(`session create answered ${res.status}`);
        return (res.json as { id: string }).id;
      }),
    ));
  await Promise.all(
    sessions.map(async (sessionId, p) => {
      let k = 0;
      while (!stop()) {
        let res: Reply;
        stats.requests++;
        try {
          res = await call(stack.url, 'POST', `/v1/sessions/${sessionId}/handoffs`, {
            token,
            body: { intent: 'escalate', reason: `publisher ${p} #${k++}`, severity: 'normal' },
            timeoutMs: 20_000,
          });
        } catch {
          stats.networkErrors++;
          await sleep(200);
          continue;
        }
        stats.statuses.set(res.status, (stats.statuses.get(res.status) ?? 0) + 1);
        if (res.status === 201) stats.created.push((res.json as { id: string }).id);
        else {
          const err = (res.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
          if (typeof err?.code !== 'string' || typeof err?.message !== 'string') {
            stats.badErrors.push(`${res.status} without the JSON error: ${res.text.slice(0, 120)}`);
          }
          await sleep(100);
        }
        if (opts.pauseMs) await sleep(opts.pauseMs);
      }
    }),
  );
  return stats;
}

export const statusSummary = (m: Map<number, number>) =>
  [...m.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([s, c]) => `${s}×${c}`)
    .join(' ');
