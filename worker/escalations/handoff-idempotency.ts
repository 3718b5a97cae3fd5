import { and, eq } from 'drizzle-orm';
import type { EscalationCard } from '../contract/events';
import type { Db } from '../db/client';
import { handoffs } from '../db/schema';
import type { HubEvent } from '../hub/hub-module';
import type { Identity } from '../lib/app-env';
import { idempotent, type KeyStore, type Made } from '../lib/idempotency';
import { loadCard } from './cards';
import { type CreateHandoffResult, createHandoff, type NewHandoff } from './create-handoff';

// `Idempotency-Key` on `POST /v1/sessions/:id/handoffs`: the key is a column of the handoff it
// made (unique per account and author while set), so the create statement writes it with the
// handoff. The flow, the 24 hours and the comparison of requests are the shared ones
// (`lib/idempotency.ts`).

/** What a handoff create is compared by: the session and the body, as stored. */
function handoffRequest(sessionId: string, body: NewHandoff) {
  return {
    session_id: sessionId,
    intent: body.intent,
    reason: body.reason,
    severity: body.severity,
    to_user_id: body.to_user_id ?? null,
  };
}

/** The caller's handoff keys, for `idempotent()`. */
function handoffKeyStore(db: Db, who: Identity): KeyStore {
  return {
    async find(key) {
      const [row] = await db
        .select({
          id: handoffs.id,
          sessionId: handoffs.sessionId,
          intent: handoffs.intent,
          reason: handoffs.reason,
          severity: handoffs.severity,
          toUserId: handoffs.toUserId,
          createdAt: handoffs.createdAt,
        })
        .from(handoffs)
        .where(
          and(
            eq(handoffs.accountId, who.accountId),
            eq(handoffs.createdBy, who.userId),
            eq(handoffs.idempotencyKey, key),
          ),
        );
      if (!row) return undefined;
      const request = handoffRequest(row.sessionId, {
        intent: row.intent,
        reason: row.reason,
        severity: row.severity,
        ...(row.toUserId === null ? {} : { to_user_id: row.toUserId }),
      });
      return { resourceId: row.id, request, createdAt: row.createdAt };
    },
    async expire(key, record) {
      // The key is forgotten, the handoff stays (as the hourly prune does).
      await db
        .update(handoffs)
        .set({ idempotencyKey: null })
        .where(
          and(
            eq(handoffs.accountId, who.accountId),
            eq(handoffs.id, record.resourceId),
            eq(handoffs.idempotencyKey, key),
          ),
        );
    },
  };
}

type Refusal = Exclude<CreateHandoffResult, { kind: 'created' }>;

export type HandoffCreateOutcome =
  | { kind: 'created'; card: EscalationCard; event: HubEvent }
  /** The key was used within 24 hours for this very request: its handoff, as it is now. */
  | { kind: 'replayed'; card: EscalationCard }
  /** The key was used within 24 hours for another request. */
  | { kind: 'key_reused' }
  | Refusal;

/**
 * Creates a handoff (`createHandoff`, one statement) under the request's Idempotency-Key: a
 * repeat, a concurrent twin, or a retry refused by the rate limit answers with the handoff the
 * key made; the same key with another request is `key_reused`.
 */
export async function createHandoffOnce(
  db: Db,
  who: Identity,
  sessionId: string,
  body: NewHandoff,
  key: string | undefined,
  maxPerMinute: number,
): Promise<HandoffCreateOutcome> {
  const outcome = await idempotent({
    key,
    request: handoffRequest(sessionId, body),
    store: handoffKeyStore(db, who),
    create: async (): Promise<Made<Extract<CreateHandoffResult, { kind: 'created' }>, Refusal>> => {
      const result = await createHandoff(db, who, sessionId, body, key, maxPerMinute);
      if (result.kind === 'created') return { ok: true, value: result };
      // Over the rate limit, a retry of a request that did get through is answered all the same;
      // a missing session or target stays what it is.
      return { ok: false, value: result, askKey: result.kind === 'rate_limited' };
    },
    replay: (handoffId) => loadCard(db, who.accountId, handoffId),
  });
  switch (outcome.kind) {
    case 'created':
    case 'refused':
      return outcome.value;
    case 'replayed':
      return { kind: 'replayed', card: outcome.value };
    case 'key_reused':
      return outcome;
  }
}
