import { canonicalUuid } from '../lib/canonical-uuid';
import { relayName } from './relay-protocol';

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

/** One of the account's relay hubs (see worker/hub/relay-hub.ts). */
export function relayFor(env: Env, accountId: string, n: number) {
  const id = canonicalUuid(accountId);
  if (!id) throw new Error('relayFor: account id is not a UUID');
  return env.RELAY_HUB.get(env.RELAY_HUB.idFromName(relayName(id, n)));
}
