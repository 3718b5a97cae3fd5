import { hubFor } from '../hub/hub-client';
import { log } from '../lib/log';

// After a change of an endpoint is committed in Postgres, the account's hub reloads its copy.
// The answer does not depend on it (the change is committed): a hub that cannot be reached is
// asked again in the background (until then it delivers by the copy it had).

const RETRY_DELAYS_MS = [1_000, 3_000, 9_000];

export async function refreshHub(
  env: Env,
  accountId: string,
  background: (work: Promise<unknown>) => void,
): Promise<void> {
  try {
    await hubFor(env, accountId).refreshWebhooks();
    return;
  } catch (err) {
    log('warn', 'webhook hub refresh failed; retrying in the background', { accountId, err });
  }
  background(
    (async () => {
      for (const delay of RETRY_DELAYS_MS) {
        await new Promise((r) => setTimeout(r, delay));
        try {
          await hubFor(env, accountId).refreshWebhooks();
          return;
        } catch (err) {
          log('warn', 'webhook hub refresh failed again', { accountId, err });
        }
      }
      log('error', 'webhook hub refresh gave up; the hub keeps its previous copy until the next change', {
        accountId,
      });
    })(),
  );
}
