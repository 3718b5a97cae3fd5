import { hubUnavailable } from './errors';
import { log } from './log';

/** The hub is a dependency like Postgres: when it cannot be reached the answer is a 503. */
export async function hubCall<T>(what: string, fn: () => Promise<unknown>): Promise<T> {
  try {
    // RPC stubs wrap results in Disposable promise types; the plain result type is what arrives.
    return (await fn()) as T;
  } catch (err) {
    log('warn', 'account hub call failed', { what, err });
    throw hubUnavailable();
  }
}
