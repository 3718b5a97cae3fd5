import { useEffect, useState } from 'preact/hooks';

// Hash routing: every screen has a URL that survives a reload and needs nothing from the server
// (the Worker serves index.html for / and the API keeps /v1). The queue and the metrics keep what
// they show in the hash's query (`#/?status=open&q=vpn`, `#/metrics?range=7`).

export type Route =
  | { name: 'queue'; query: string }
  | { name: 'handoff'; id: string }
  | { name: 'sessions' }
  | { name: 'session'; id: string }
  | { name: 'runs' }
  | { name: 'run'; id: string }
  | { name: 'metrics'; query: string }
  | { name: 'webhooks' }
  | { name: 'webhook'; id: string }
  | { name: 'policy' }
  | { name: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const full = hash.replace(/^#/, '') || '/';
  const at = full.indexOf('?');
  const path = at === -1 ? full : full.slice(0, at) || '/';
  const query = at === -1 ? '' : full.slice(at + 1);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, id, ...rest] = parts;
  if (rest.length === 0) {
    if (first === undefined) return { name: 'queue', query };
    if (first === 'handoffs' && id) return { name: 'handoff', id };
    if (first === 'sessions') return id ? { name: 'session', id } : { name: 'sessions' };
    if (first === 'runs') return id ? { name: 'run', id } : { name: 'runs' };
    if (first === 'metrics' && !id) return { name: 'metrics', query };
    if (first === 'webhooks') return id ? { name: 'webhook', id } : { name: 'webhooks' };
    if (first === 'policy' && !id) return { name: 'policy' };
  }
  return { name: 'not-found', path: full };
}

export const paths = {
  queue: (query = '') => (query ? `#/?${query}` : '#/'),
  handoff: (id: string) => `#/handoffs/${encodeURIComponent(id)}`,
  sessions: () => '#/sessions',
  session: (id: string) => `#/sessions/${encodeURIComponent(id)}`,
  runs: () => '#/runs',
  run: (id: string) => `#/runs/${encodeURIComponent(id)}`,
  metrics: (query = '') => (query ? `#/metrics?${query}` : '#/metrics'),
  webhooks: () => '#/webhooks',
  webhook: (id: string) => `#/webhooks/${encodeURIComponent(id)}`,
  policy: () => '#/policy',
};

export function navigate(hash: string) {
  if (location.hash !== hash) location.hash = hash;
}

/**
 * Puts a screen's state in the URL without a new history entry (each keystroke of a search would
 * otherwise be one): the address stays shareable and a reload keeps it.
 */
export function replaceHash(hash: string) {
  if (location.hash === hash) return;
  history.replaceState(history.state, '', hash);
  // replaceState fires nothing: tell the router, so the route it holds is the address shown.
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
