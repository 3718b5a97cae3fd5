import { and, eq } from 'drizzle-orm';
import type { EscalationCard } from '../contract/events';
import type { Db } from '../db/client';
import { handoffs } from '../db/schema';
import type { Identity } from '../lib/app-env';
import { loadCard } from './cards';
import type { NewHandoff } from './create-handoff';

export type ReplayResult =
  | { kind: 'replay'; card: EscalationCard }
  /** The key was used for a different request. */
  | { kind: 'mismatch' }
  | { kind: 'none' };

/**
 * What an `Idempotency-Key` the caller already used answers: the handoff it created when the
 * request is the same (same session and body), a mismatch when it is not.
 */
export async function replayHandoff(
  db: Db,
  who: Identity,
  key: string,
  sessionId: string,
  body: NewHandoff,
): Promise<ReplayResult> {
  const [row] = await db
    .select()
    .from(handoffs)
    .where(
      and(
        eq(handoffs.accountId, who.accountId),
        eq(handoffs.createdBy, who.userId),
        eq(handoffs.idempotencyKey, key),
      ),
    );
  if (!row) return { kind: 'none' };
  if (
    row.sessionId !== sessionId ||
    row.intent !== body.intent ||
    row.reason !== body.reason ||
    row.severity !== body.severity ||
    row.toUserId !== (body.to_user_id ?? null)
  ) {
    return { kind: 'mismatch' };
  }
  const card = await loadCard(db, who.accountId, row.id);
  return card ? { kind: 'replay', card } : { kind: 'none' };
}
