import { canonicalUuid } from '../lib/canonical-uuid';

/**
 * The account's hub, addressed by the canonical account UUID, so every spelling of one account
 * (upper case, no hyphens, a String object) reaches the same Durable Object. Its type comes from
 * the binding (`wrangler types`), so nothing here imports the hub's class or its modules.
 */
export function hubFor(env: Env, accountId: unknown) {
  const id = canonicalUuid(typeof accountId === 'string' ? accountId : String(accountId));
  if (!id) throw new Error('hubFor: account id is not a UUID');
  return env.ACCOUNT_HUB.get(env.ACCOUNT_HUB.idFromName(id));
}
