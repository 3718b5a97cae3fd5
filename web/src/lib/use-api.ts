import type { ClientPathsWithMethod, MaybeOptionalInit, MethodResponse } from 'openapi-fetch';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { type ApiClient, api, data, errorMessage, retryRead } from './api';
import type { paths } from './api-schema';

export type Loaded<T> =
  | { status: 'loading' }
  | { status: 'error'; error: string; code?: string; httpStatus?: number }
  | { status: 'ready'; data: T };

/** An API path that answers GET. */
export type GetPath = ClientPathsWithMethod<ApiClient, 'get'>;
/** Its parameters (`{params: {path, query}}`), as the description states them. */
export type GetInit<P extends GetPath> = MaybeOptionalInit<paths[P], 'get'>;
/** Its success answer. */
export type GetAnswer<P extends GetPath> = MethodResponse<ApiClient, 'get', P>;

// openapi-fetch's GET is generic over every path; one typed signature for the hook's own use.
const get = api.GET as (path: string, init?: object) => Promise<{ data?: unknown; response: Response }>;

/**
 * GETs `path` with `init` (again whenever either changes, or on `reload()`); `null` waits. The
 * answer is typed by the path, from the API description. A transient failure (the network, a 5xx)
 * is asked again with backoff while the read stays `loading`; only the last failure is shown,
 * and one of the network is asked again when the browser comes back online.
 */
export function useApi<P extends GetPath>(
  path: P | null,
  init?: GetInit<P>,
): [Loaded<GetAnswer<P>>, () => void] {
  const [state, setState] = useState<Loaded<GetAnswer<P>>>({ status: 'loading' });
  const [tick, setTick] = useState(0);
  const key = init === undefined ? '' : JSON.stringify(init);
  // `key` stands for `init`: callers build a new object on every render, with the same content.
  useEffect(() => {
    if (path === null) return;
    // Asked again after a failure (Try again): loading while it is, not the old failure.
    setState((s) => (s.status === 'error' ? { status: 'loading' } : s));
    const abort = new AbortController();
    retryRead(() => data(get(path, { ...init, signal: abort.signal })), abort.signal)
      .then((answer) => abort.signal.aborted || setState({ status: 'ready', data: answer as GetAnswer<P> }))
      .catch((err: unknown) => {
        if (abort.signal.aborted) return;
        const e = err as { code?: string; status?: number };
        setState({
          status: 'error',
          error: errorMessage(err),
          ...(e.code ? { code: e.code } : {}),
          ...(e.status ? { httpStatus: e.status } : {}),
        });
      });
    return () => abort.abort();
  }, [path, key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  // A read the network failed is asked again when the browser is back online, as the streams are.
  const offline = state.status === 'error' && state.httpStatus === undefined;
  useEffect(() => {
    if (!offline) return;
    window.addEventListener('online', reload);
    return () => window.removeEventListener('online', reload);
  }, [offline, reload]);
  return [state, reload];
}
