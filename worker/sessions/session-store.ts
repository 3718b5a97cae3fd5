import { asc, count, eq } from 'drizzle-orm';
import { TransactionRollbackError } from 'drizzle-orm/errors';
import type { StepOutcome } from '../contract/statuses';
import { type Db, type DbOrTx, transaction } from '../db/client';
import { type At, nowValue } from '../db/clock';
import { type SessionRow, type SessionStepRow, sessionSteps, sessions } from '../db/schema';
import { findInAccount, inAccount } from '../lib/account-rows';
import type { Identity } from '../lib/app-env';
import { keysetPage, type PageWindow } from '../lib/pagination';

// Sessions and their steps in Postgres: every read and write of them goes through here.

// Every read of a session (its page, the pick-up context, the assessment) loads all its steps.
export const MAX_STEPS_PER_SESSION = 500;

export interface NewSession {
  title: string;
  problem_summary: string;
  customer?: string | undefined;
}

export interface NewStep {
  action: string;
  outcome: StepOutcome;
  notes?: string | undefined;
}

/** Opens a session; `at` is the demo seed's clock (db/clock.ts), absent in real use. */
export async function createSession(
  db: Db,
  who: Identity,
  body: NewSession,
  opts: { at?: At } = {},
): Promise<SessionRow> {
  const [row] = await db
    .insert(sessions)
    .values({
      accountId: who.accountId,
      createdBy: who.userId,
      title: body.title,
      problemSummary: body.problem_summary,
      customer: body.customer ?? null,
      createdAt: nowValue(opts.at),
      updatedAt: nowValue(opts.at),
    })
    .returning();
  if (!row) throw new Error('session insert returned no row');
  return row;
}

/** One page of the account's sessions, newest first; `limit` rows at most. */
export function listSessions(db: Db, accountId: string, window: PageWindow): Promise<SessionRow[]> {
  return keysetPage(
    db.select().from(sessions).$dynamic(),
    sessions,
    eq(sessions.accountId, accountId),
    window,
  );
}

/** The session, if it is in this account (another account's session is as absent as a missing one). */
export function findSession(db: Db, accountId: string, id: string): Promise<SessionRow | undefined> {
  return findInAccount(db.select().from(sessions).$dynamic(), sessions, accountId, id);
}

/**
 * The one query for a session's steps, oldest first (ties by id, so the order is stable): the
 * session page, the pick-up context and anything else that shows what was tried use it.
 */
export function sessionStepsOf(db: DbOrTx, sessionId: string): Promise<SessionStepRow[]> {
  return db
    .select()
    .from(sessionSteps)
    .where(eq(sessionSteps.sessionId, sessionId))
    .orderBy(asc(sessionSteps.createdAt), asc(sessionSteps.id));
}

export type AddStepResult = { ok: true; step: SessionStepRow } | { ok: false; reason: 'no_session' | 'full' };

/**
 * Records a step and touches the session's `updated_at`, in one transaction. A session outside
 * the account, or already holding MAX_STEPS_PER_SESSION steps, is refused and nothing is written.
 * `at` is the demo seed's clock (db/clock.ts), absent in real use.
 */
export async function addStep(
  db: Db,
  who: Identity,
  sessionId: string,
  body: NewStep,
  opts: { at?: At } = {},
): Promise<AddStepResult> {
  let refused: 'no_session' | 'full' | undefined;
  try {
    const step = await transaction(db, async (tx) => {
      const [session] = await tx
        .update(sessions)
        .set({ updatedAt: nowValue(opts.at) })
        .where(inAccount(sessions, who.accountId, sessionId))
        .returning({ id: sessions.id });
      if (!session) {
        refused = 'no_session';
        return tx.rollback();
      }
      // The UPDATE above locks the session row, so concurrent adds count one at a time.
      const [{ n } = { n: 0 }] = await tx
        .select({ n: count() })
        .from(sessionSteps)
        .where(eq(sessionSteps.sessionId, sessionId));
      if (n >= MAX_STEPS_PER_SESSION) {
        // Rolled back, so a refused step does not touch the session either.
        refused = 'full';
        return tx.rollback();
      }
      const [row] = await tx
        .insert(sessionSteps)
        .values({
          sessionId,
          accountId: who.accountId,
          authorId: who.userId,
          action: body.action,
          outcome: body.outcome,
          notes: body.notes ?? null,
          createdAt: nowValue(opts.at),
        })
        .returning();
      if (!row) throw new Error('step insert returned no row');
      return row;
    });
    return { ok: true, step };
  } catch (err) {
    if (refused && err instanceof TransactionRollbackError) return { ok: false, reason: refused };
    throw err;
  }
}
