import type { RunRegistry } from './registry';
import type { LimitRefusal, RunLimits } from './run-types';

/**
 * Whether a run of `userId` may take an active slot now (a start or a resume): the refusal names
 * the limit it hits, with a hint of when to retry. Paused runs hold no slot. Synchronous, so the
 * check and the write that takes the slot sit in one transaction.
 */
export function refuseOverLimit(
  registry: RunRegistry,
  userId: string,
  limits: RunLimits,
  now: number,
): LimitRefusal | undefined {
  const counts = registry.activeCounts(userId);
  const scope =
    counts.user >= limits.perUser ? 'user' : counts.account >= limits.perAccount ? 'account' : undefined;
  if (!scope) return undefined;
  // A hint, not a promise: the soonest a blocking run must end (its active-time deadline),
  // capped so clients retry reasonably soon since runs usually end well before their timeout.
  const soonest = registry.soonestDeadline(scope === 'user' ? userId : undefined) ?? now;
  return {
    ok: false,
    reason: 'limit',
    scope,
    limit: scope === 'user' ? limits.perUser : limits.perAccount,
    retryAfterSeconds: Math.min(30, Math.max(1, Math.ceil((soonest - now) / 1000))),
  };
}
