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
    ...clocksFrom(created_at),
    version,
    created_at,
    updated_at: created_at,
    ...extra,
  };
}

/** The default urgent policy's clocks from `created_at`, asking everyone, at level 0. */
function clocksFrom(
  created_at: string,
): Pick<EscalationCard, 'sla' | 'level' | 'notify' | 'next_level_at' | 'policy_version'> {
  const at = (s: number) => new Date(Date.parse(created_at) + s * 1000).toISOString();
  return {
    sla: {
      pickup_warn_at: at(225),
      pickup_due_at: at(300),
      resolve_warn_at: at(10_800),
      resolve_due_at: at(14_400),
      pickup: 'ok',
      resolve: 'ok',
    },
    level: 0,
    notify: 'everyone',
    next_level_at: at(120),
    policy_version: 0,
  };
}
