import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { EscalationCard } from '../contract/events';
import { MAX_PAGE_LIMIT } from '../contract/paging';
import { searchWords } from '../contract/queue-search';
import {
  HANDOFF_STATUSES,
  type HandoffStatus,
  isOneOf,
  type Severity,
  zeroCounts,
} from '../contract/statuses';
import type { DbOrTx } from '../db/client';
import { handoffs } from '../db/schema';
import { inAccount } from '../lib/account-rows';
import { afterCursor, type CursorKey } from '../lib/pagination';

// The one card builder. A card is assembled in SQL, from a handoff row `h` joined to its session
// `s` and the people it names, so the create statement (which publishes the new card through the
// outbox in the same statement) and every read build it the same way.

/** The handoffs table under the name the builder reads it by. */
const h = alias(handoffs, 'h');

/** Postgres' rendering of a timestamptz column that matches Date.prototype.toISOString. */
export const isoText = (column: string) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const person = (id: string, who: string) =>
  `case when ${id} is null then null else jsonb_build_object('id', ${id}, 'name', coalesce(${who}.name, 'unknown user')) end`;

/** The card of `h` as jsonb (see EscalationCard in the contract). */
const CARD = sql.raw(`jsonb_build_object(
  'id', h.id,
  'session_id', h.session_id,
  'intent', h.intent,
  'reason', h.reason,
  'severity', h.severity,
  'status', h.status,
  'to_user_id', h.to_user_id,
  'created_by', ${person('h.created_by', 'creator')},
  'picked_up_by', ${person('h.picked_up_by', 'picker')},
  'picked_up_at', ${isoText('h.picked_up_at')},
  'closed_by', ${person('h.closed_by', 'closer')},
  'closed_at', ${isoText('h.closed_at')},
  'session', jsonb_build_object('title', s.title, 'problem_summary', s.problem_summary, 'customer', s.customer),
  'ai_status', h.ai_status,
  'ai_assessment', h.ai_assessment,
  'ai_error', h.ai_error,
  'sla', jsonb_build_object(
    'pickup_due_at', ${isoText('h.pickup_due_at')},
    'resolve_due_at', ${isoText('h.resolve_due_at')},
    'pickup_warn_at', ${isoText('h.pickup_warn_at')},
    'resolve_warn_at', ${isoText('h.resolve_warn_at')},
    'pickup', h.pickup_sla,
    'resolve', h.resolve_sla),
  'level', h.level,
  'notify', h.notify,
  'next_level_at', ${isoText('h.next_level_at')},
  'policy_version', h.policy_version,
  'version', h.version,
  'created_at', ${isoText('h.created_at')},
  'updated_at', ${isoText('h.updated_at')}
)`);

/** What a card needs besides its handoff row `h`. */
const JOINS = sql.raw(`join sessions s on s.id = h.session_id
  left join users creator on creator.account_id = h.account_id and creator.id = h.created_by
  left join users picker on picker.account_id = h.account_id and picker.id = h.picked_up_by
  left join users closer on closer.account_id = h.account_id and closer.id = h.closed_by`);

/**
 * `select card from <source> h …`: the card of every row of `source`, which is the handoffs table
 * or a CTE of handoff rows (the create statement's `insert … returning *`).
 */
export const cardsFrom = (source: SQL, where?: SQL) =>
  sql`select ${CARD} as card, ${sql.raw(isoText('h.created_at'))} as created_at from ${source} h ${JOINS}${
    where ? sql` where ${where}` : sql``
  }`;

/** Whom "asking me" means: the user, and whether they are an admin. */
export interface Asked {
  userId: string;
  admin: boolean;
}

/**
 * The cards asking this user (DESIGN.md: `notify` lists them, or is `admins` and they are one).
 * Only a card waiting for pick-up asks anyone: once picked up, `notify` records who was asked.
 */
export const askingSql = (asked: Asked) =>
  and(
    eq(h.status, 'open'),
    asked.admin
      ? sql`(${h.notify} @> jsonb_build_array(${asked.userId}::text) or ${h.notify} = '"admins"'::jsonb)`
      : sql`${h.notify} @> jsonb_build_array(${asked.userId}::text)`,
  );

/** What the queue is filtered by (`GET /v1/escalations`); every part is optional. */
export interface CardFilter {
  statuses?: readonly HandoffStatus[];
  severities?: readonly Severity[];
  asking?: Asked;
  /** Words that must each appear in the session's title, problem summary or customer, in any case. */
  text?: string;
}

/** A LIKE pattern that matches `word` literally anywhere (`%`, `_` and `\` escaped). */
const containing = (word: string) => `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The filter as SQL over `h` and its session `s`, its statuses left out when `withStatus` is false. */
function filterSql(filter: CardFilter, withStatus = true): SQL | undefined {
  const haystack = sql.raw(`concat_ws(' ', s.title, s.problem_summary, s.customer)`);
  return and(
    withStatus && filter.statuses ? inArray(h.status, [...filter.statuses]) : undefined,
    filter.severities ? inArray(h.severity, [...filter.severities]) : undefined,
    filter.asking ? askingSql(filter.asking) : undefined,
    ...searchWords(filter.text ?? '').map((w) => sql`${haystack} ilike ${containing(w)}`),
  );
}

/** Cards of one account, newest first. */
export async function loadCards(
  db: DbOrTx,
  accountId: string,
  opts: CardFilter & {
    id?: string;
    ids?: readonly string[];
    after?: CursorKey;
    limit?: number;
  } = {},
): Promise<(EscalationCard & { createdAt: Date })[]> {
  const where = and(
    eq(h.accountId, accountId),
    opts.id ? eq(h.id, opts.id) : undefined,
    opts.ids ? inArray(h.id, [...opts.ids]) : undefined,
    filterSql(opts),
    afterCursor(h, opts.after),
  );
  const result = await db.execute<{ card: EscalationCard; created_at: string }>(
    sql`${cardsFrom(sql.raw('handoffs'), where)} order by h.created_at desc, h.id desc limit ${opts.limit ?? MAX_PAGE_LIMIT}`,
  );
  return result.rows.map((r) => ({ ...r.card, createdAt: new Date(r.created_at) }));
}

export async function loadCard(
  db: DbOrTx,
  accountId: string,
  id: string,
): Promise<EscalationCard | undefined> {
  const [card] = await loadCards(db, accountId, { id, limit: 1 });
  return card ? cardJson(card) : undefined;
}

/** Drops the internal sort key before a card leaves the Worker. */
export const cardJson = ({ createdAt: _, ...card }: EscalationCard & { createdAt: Date }): EscalationCard =>
  card;

/** Whether a handoff exists in the account (cheaper than its card). */
export async function handoffExists(db: DbOrTx, accountId: string, id: string): Promise<boolean> {
  const rows = await db
    .select({ id: h.id })
    .from(h)
    .where(inAccount(h, accountId, id))
    .limit(1);
  return rows.length > 0;
}

/**
 * How many of the account's cards of each status match the filter, its statuses aside: what each
 * status would list (the queue's tabs). Every status is named, zero included.
 */
export async function countCardsByStatus(
  db: DbOrTx,
  accountId: string,
  filter: CardFilter,
): Promise<Record<HandoffStatus, number>> {
  const result = await db.execute<{ status: string; n: number }>(sql`
    select h.status, count(*)::int as n from handoffs h join sessions s on s.id = h.session_id
    where ${and(eq(h.accountId, accountId), filterSql(filter, false))}
    group by h.status`);
  const counts = zeroCounts(HANDOFF_STATUSES);
  for (const r of result.rows) if (isOneOf(HANDOFF_STATUSES, r.status)) counts[r.status] = Number(r.n);
  return counts;
}
