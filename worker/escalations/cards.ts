import { and, eq, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { EscalationCard, Person } from '../contract/events';
import type { DbOrTx } from '../db/client';
import { handoffs, sessions, users } from '../db/schema';
import { afterCursor, type CursorKey, newestFirst } from '../lib/pagination';

const creator = alias(users, 'creator');
const picker = alias(users, 'picker');
const closer = alias(users, 'closer');

const person = (id: string | null, name: string | null): Person | null =>
  id === null ? null : { id, name: name ?? 'unknown user' };

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Cards of one account (whole cards: the session and the people named), newest first. */
export async function loadCards(
  db: DbOrTx,
  accountId: string,
  opts: { id?: string; status?: EscalationCard['status']; after?: CursorKey; limit?: number } = {},
): Promise<(EscalationCard & { createdAt: Date })[]> {
  const filters: (SQL | undefined)[] = [eq(handoffs.accountId, accountId)];
  if (opts.id) filters.push(eq(handoffs.id, opts.id));
  if (opts.status) filters.push(eq(handoffs.status, opts.status));
  filters.push(afterCursor(handoffs, opts.after));
  const rows = await db
    .select({
      h: handoffs,
      s: { title: sessions.title, problemSummary: sessions.problemSummary, customer: sessions.customer },
      creatorName: creator.name,
      pickerName: picker.name,
      closerName: closer.name,
    })
    .from(handoffs)
    .innerJoin(sessions, eq(sessions.id, handoffs.sessionId))
    .leftJoin(creator, and(eq(creator.accountId, handoffs.accountId), eq(creator.id, handoffs.createdBy)))
    .leftJoin(picker, and(eq(picker.accountId, handoffs.accountId), eq(picker.id, handoffs.pickedUpBy)))
    .leftJoin(closer, and(eq(closer.accountId, handoffs.accountId), eq(closer.id, handoffs.closedBy)))
    .where(and(...filters))
    .orderBy(...newestFirst(handoffs))
    .limit(opts.limit ?? 200);
  return rows.map(({ h, s, creatorName, pickerName, closerName }) => ({
    id: h.id,
    session_id: h.sessionId,
    intent: h.intent,
    reason: h.reason,
    severity: h.severity,
    status: h.status,
    to_user_id: h.toUserId,
    created_by: person(h.createdBy, creatorName) as Person,
    picked_up_by: person(h.pickedUpBy, pickerName),
    picked_up_at: iso(h.pickedUpAt),
    closed_by: person(h.closedBy, closerName),
    closed_at: iso(h.closedAt),
    session: { title: s.title, problem_summary: s.problemSummary, customer: s.customer },
    ai_status: h.aiStatus,
    ai_assessment: h.aiAssessment ?? null,
    ai_error: h.aiError,
    version: h.version,
    created_at: h.createdAt.toISOString(),
    updated_at: h.updatedAt.toISOString(),
    createdAt: h.createdAt,
  }));
}

export async function loadCard(
  db: DbOrTx,
  accountId: string,
  id: string,
): Promise<EscalationCard | undefined> {
  const [card] = await loadCards(db, accountId, { id, limit: 1 });
  if (!card) return undefined;
  const { createdAt: _, ...json } = card;
  return json;
}

/** Drops the internal sort key before a card leaves the Worker. */
export const cardJson = ({ createdAt: _, ...card }: EscalationCard & { createdAt: Date }): EscalationCard =>
  card;
