import { useState } from 'preact/hooks';
import { errorMessage } from './api';

/**
 * What a form or button sends: `busy` while `run`'s work is under way (to disable the button), and
 * the message its failure left in `error`, cleared when it runs again. `setError` is for what the
 * form refuses itself, before anything is sent.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
