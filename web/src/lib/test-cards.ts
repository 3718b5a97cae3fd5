import type { EscalationCard } from '../../../worker/contract/events';

/** A card for unit tests: only what the test names differs. */
export function card(
  id: string,
  version: number,
  created_at: string,
  extra: Partial<EscalationCard> = {},
): EscalationCard {
  return {
    id,
    session_id: 's',
    intent: 'escalate',
    reason: `reason ${id}`,
    severity: 'normal',
    status: 'open',
    to_user_id: null,
    created_by: { id: 'u', name: 'Alice' },
    picked_up_by: null,
    picked_up_at: null,
    closed_by: null,
    closed_at: null,
    session: { title: `title ${id}`, problem_summary: 'p', customer: null },
    ai_status: 'pending',
    ai_assessment: null,
    ai_error: null,
    version,
    created_at,
    updated_at: created_at,
    ...extra,
  };
}
