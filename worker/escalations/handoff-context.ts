import type { z } from '@hono/zod-openapi';
import type { DbOrTx } from '../db/client';
import type { HandoffContextSchema } from '../schemas/escalations';
import { stepJson } from '../schemas/sessions';
import { sessionStepsOf } from '../sessions/session-store';
import { loadCard } from './cards';

export type HandoffContext = z.infer<typeof HandoffContextSchema>;

/**
 * The pick-up screen of a handoff: the problem, what has been tried, the AI assessment and where
 * to start (the assessment's first suggestion, else the last partial result, else the reason).
 * Undefined when the handoff is not in the account.
 */
export async function handoffContext(
  db: DbOrTx,
  accountId: string,
  handoffId: string,
): Promise<HandoffContext | undefined> {
  const card = await loadCard(db, accountId, handoffId);
  if (!card) return undefined;
  const tried = await sessionStepsOf(db, card.session_id);
  const lastPartial = tried.filter((s) => s.outcome === 'partial').at(-1);
  const suggestion =
    card.ai_assessment?.suggested_next_steps[0] ??
    (lastPartial ? `Continue from the partial result: ${lastPartial.action}` : `Address: ${card.reason}`);
  return {
    handoff: card,
    problem_summary: card.session.problem_summary,
    tried: tried.map(stepJson),
    ai_status: card.ai_status,
    ai_assessment: card.ai_assessment,
    start_here: {
      summary: suggestion,
      session_id: card.session_id,
      session_url: `/v1/sessions/${card.session_id}`,
    },
  };
}
