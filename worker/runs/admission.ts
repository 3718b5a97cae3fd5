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

/** How long a start refused for paused runs is told to wait, at most: pauses end when people answer. */
const PAUSED_RETRY_CAP_SECONDS = 60;

/**
 * Whether a new run may start: the active-run limits, and the account's paused runs under
 * `pausedPerAccount` (a resume never adds a paused run, so only starts check it).
 */
export function refuseStart(
  registry: RunRegistry,
  userId: string,
  limits: RunLimits,
  now: number,
): LimitRefusal | undefined {
  const active = refuseOverLimit(registry, userId, limits, now);
  if (active) return active;
  // Written as "not at or over", so a request without the limit (an older Worker) is not refused.
  if (!(registry.pausedCount() >= limits.pausedPerAccount)) return undefined;
  const soonest = registry.soonestPauseDeadline() ?? now;
  return {
    ok: false,
    reason: 'limit',
    scope: 'paused',
    limit: limits.pausedPerAccount,
    retryAfterSeconds: Math.min(PAUSED_RETRY_CAP_SECONDS, Math.max(1, Math.ceil((soonest - now) / 1000))),
  };
}
