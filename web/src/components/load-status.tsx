import type { ComponentChildren } from 'preact';
import { isTransientStatus } from '../lib/backoff';
import type { Loaded } from '../lib/use-api';

type Failed = Extract<Loaded<unknown>, { status: 'error' }>;

/**
 * A failed read as an alert; `notFound` is what a 404 says in the page's own words. When asking
 * again may help (the network, the server's trouble) and the page can, it offers to.
 */
export function LoadError({
  failed,
  notFound,
  onRetry,
}: {
  failed: Failed;
  notFound?: string;
  onRetry?: () => void;
}) {
  return (
    <p class="error" role="alert">
      {notFound !== undefined && failed.httpStatus === 404 ? notFound : failed.error}
      {onRetry && isTransientStatus(failed.httpStatus ?? 0) && (
        <>
          {' '}
          <button type="button" class="link-button" onClick={onRetry}>
            Try again
          </button>
        </>
      )}
    </p>
  );
}

/** What a read shows until it is ready: "Loading…", or its error; nothing once it is ready. */
export function LoadStatus({ loaded, notFound }: { loaded: Loaded<unknown>; notFound?: string }) {
  if (loaded.status === 'loading') return <p aria-busy="true">Loading…</p>;
  if (loaded.status === 'error')
    return <LoadError failed={loaded} {...(notFound === undefined ? {} : { notFound })} />;
  return null;
}

/** A page of items read from the API: its status until it is ready, then `empty` or the items. */
export function LoadedItems<T>({
  loaded,
  empty,
  children,
}: {
  loaded: Loaded<{ items: T[] }>;
  empty: string;
  children: (items: T[]) => ComponentChildren;
}) {
  if (loaded.status !== 'ready') return <LoadStatus loaded={loaded} />;
  const { items } = loaded.data;
  return items.length === 0 ? <p class="empty">{empty}</p> : children(items);
}
