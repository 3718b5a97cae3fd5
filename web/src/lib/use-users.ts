import { useEffect, useState } from 'preact/hooks';
import { MAX_PAGE_LIMIT } from '../../../worker/contract/paging';
import { allPages } from './all-pages';
import { api, data, errorMessage, type Schema } from './api';
import type { Loaded } from './use-api';

type AccountUser = Schema<'AccountUser'>;

/**
 * The account's users, every page of `GET /v1/users` (200 a page), by name: whom a transfer or
 * a policy level can name, and the names behind user ids. `enabled: false` waits.
 */
export function useUsers(enabled = true): Loaded<{ items: AccountUser[] }> {
  const [state, setState] = useState<Loaded<{ items: AccountUser[] }>>({ status: 'loading' });
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    allPages((cursor) =>
      data(
        api.GET('/v1/users', { params: { query: { limit: MAX_PAGE_LIMIT, ...(cursor ? { cursor } : {}) } } }),
      ),
    )
      .then((items) => {
        const byName = [...items].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
        if (live) setState({ status: 'ready', data: { items: byName } });
      })
      .catch((err: unknown) => {
        if (live) setState({ status: 'error', error: errorMessage(err) });
      });
    return () => {
      live = false;
    };
  }, [enabled]);
  return state;
}
