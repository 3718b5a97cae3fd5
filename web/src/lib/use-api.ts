import type { ClientPathsWithMethod, MaybeOptionalInit, MethodResponse } from 'openapi-fetch';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { type ApiClient, api, data, errorMessage } from './api';
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
 * answer is typed by the path, from the API description.
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
    let live = true;
    data(get(path, init))
      .then((answer) => live && setState({ status: 'ready', data: answer as GetAnswer<P> }))
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
  }, [path, key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return [state, reload];
}
