import type { RunRow } from '../db/schema';
import type { Identity } from '../lib/app-env';

/**
 * Who may act on a run (resume, cancel, rerun): the user who started it, or an admin of its
 * account. Every engineer and admin may read and stream it (DESIGN.md "Who may act on a run").
 */
export const mayActOnRun = (who: Identity, run: Pick<RunRow, 'startedBy'>): boolean =>
  who.role === 'admin' || run.startedBy === who.userId;
