import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, errorMessage } from './api';

export type Loaded<T> =
  | { status: 'loading' }
  | { status: 'error'; error: string; code?: string; httpStatus?: number }
  | { status: 'ready'; data: T };

/** GETs `path` (again whenever it changes, or on `reload()`). */
export function useApi<T>(path: string | null): [Loaded<T>, () => void] {
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    api<T>(path)
      .then((data) => live && setState({ status: 'ready', data }))
      .catch((err: unknown) => {
        if (!live) return;
        const e = err as { code?: string; status?: number };
        setState({
          status: 'error',
          error: errorMessage(err),
          ...(e.code ? { code: e.code } : {}),
          ...(e.status ? { httpStatus: e.status } : {}),
        });
      });
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return [state, reload];
}
