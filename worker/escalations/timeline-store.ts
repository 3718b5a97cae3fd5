import { and, asc, eq } from 'drizzle-orm';
import type { TimelineType } from '../contract/statuses';
import type { DbOrTx, Tx } from '../db/client';
import type { At } from '../db/clock';
import { handoffTimeline } from '../db/schema';
import type { Identity } from '../lib/app-env';

// A card's timeline: every change as a Postgres row, written in the transaction that made the
// change (the create statement writes its own), so the audit trail cannot disagree with the card.

export interface TimelineEntry {
  handoffId: string;
  accountId: string;
  /** The card's version after the change. */
  version: number;
  type: TimelineType;
  /** Who did it; null for what the system did (assessment, clocks, re-escalation). */
  actor: Pick<Identity, 'userId' | 'name'> | null;
  details?: Record<string, unknown>;
  /** When it happened: the database's `now()` unless the demo seed's clock says (db/clock.ts). */
  at?: At;
}

export interface TimelineItem {
  at: string;
  type: TimelineType;
  version: number;
  actor: { user_id: string; name: string } | null;
  details: Record<string, unknown>;
}

/** Writes timeline rows inside the transaction of the changes they record. */
export async function recordTimeline(tx: Tx, entries: readonly TimelineEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await tx.insert(handoffTimeline).values(
    entries.map((e) => ({
      handoffId: e.handoffId,
      accountId: e.accountId,
      version: e.version,
      type: e.type,
      ...(e.at ? { at: e.at } : {}),
      actorId: e.actor?.userId ?? null,
      actorName: e.actor?.name ?? null,
      details: e.details ?? {},
    })),
  );
}

/** Every change of a card, oldest first. */
export async function loadTimeline(
  db: DbOrTx,
  accountId: string,
  handoffId: string,
): Promise<TimelineItem[]> {
  const rows = await db
    .select()
    .from(handoffTimeline)
    .where(and(eq(handoffTimeline.accountId, accountId), eq(handoffTimeline.handoffId, handoffId)))
    .orderBy(asc(handoffTimeline.version));
  return rows.map((r) => ({
    at: r.at.toISOString(),
    type: r.type,
    version: r.version,
    actor: r.actorId ? { user_id: r.actorId, name: r.actorName ?? 'unknown user' } : null,
    details: (r.details ?? {}) as Record<string, unknown>,
  }));
}
