import { canonicalUuid } from '../lib/canonical-uuid';
import type { AccountHub } from './account-hub';

/**
 * The account's hub, addressed by the canonical account UUID, so every spelling of one account
 * (upper case, no hyphens, a String object) reaches the same Durable Object.
 */
export function hubFor(env: Env, accountId: unknown): DurableObjectStub<AccountHub> {
  const id = canonicalUuid(typeof accountId === 'string' ? accountId : String(accountId));
  if (!id) throw new Error('hubFor: account id is not a UUID');
  return env.ACCOUNT_HUB.get(env.ACCOUNT_HUB.idFromName(id));
}
