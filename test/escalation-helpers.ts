import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { EscalationCard } from '../worker/contract/events';
import { hubFor } from '../worker/hub/hub-client';
import { call, createSession, json, type TestUser } from './helpers';
import { SseReader } from './sse';

export async function escalate(
  user: TestUser,
  opts: { sessionId?: string; severity?: string; reason?: string; key?: string } = {},
): Promise<EscalationCard> {
  const sessionId = opts.sessionId ?? (await createSession(user)).id;
  const res = await call(`/v1/sessions/${sessionId}/handoffs`, user, {
    body: {
      intent: 'escalate',
      reason: opts.reason ?? 'customer is blocked',
      severity: opts.severity ?? 'high',
    },
    ...(opts.key ? { headers: { 'idempotency-key': opts.key } } : {}),
  });
  if (res.status !== 201) throw new Error(`escalate failed: ${res.status} ${await res.text()}`);
  return json<EscalationCard>(res);
}

/** Opens the escalation stream and waits for its `retry:` preamble, so it is subscribed. */
export async function openStream(
  user: TestUser,
  lastEventId?: number,
  signal?: AbortSignal,
  opts: { ephemeral?: boolean } = {},
): Promise<SseReader> {
  const res = await call('/v1/escalations/stream', user, {
    ...(lastEventId !== undefined ? { headers: { 'last-event-id': String(lastEventId) } } : {}),
    ...(signal ? { signal } : {}),
  });
  if (res.status !== 200) throw new Error(`stream failed: ${res.status} ${await res.text()}`);
  const reader = new SseReader(res, opts);
  const first = await reader.next();
  if (first?.retry === undefined) throw new Error(`expected retry first, got ${JSON.stringify(first)}`);
  return reader;
}

export const hubOf = (user: TestUser) => hubFor(env, user.acct);

/** Runs the hub's alarm until no job is due (the assessment job, for one). */
export async function drainHub(user: TestUser): Promise<void> {
  for (let i = 0; i < 5; i++) if (!(await runDurableObjectAlarm(hubOf(user)))) return;
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * An `ACCOUNT_HUB` binding for one request whose every publish fails (the hub unreachable), and
 * how many publishes it was asked for: the commit succeeds, the outbox must deliver.
 */
export function unreachableHub() {
  let attempts = 0;
  const binding = {
    idFromName: (n: string) => env.ACCOUNT_HUB.idFromName(n),
    get: () => ({
      publish: () => {
        attempts++;
        return Promise.reject(new Error('hub unreachable'));
      },
    }),
  };
  return { binding, attempts: () => attempts };
}
