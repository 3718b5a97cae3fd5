import { useEffect, useState } from 'preact/hooks';

// Hash routing: every screen has a URL that survives a reload and needs nothing from the server
// (the Worker serves index.html for / and the API keeps /v1).

export type Route =
  | { name: 'queue' }
  | { name: 'handoff'; id: string }
  | { name: 'sessions' }
  | { name: 'session'; id: string }
  | { name: 'runs' }
  | { name: 'run'; id: string }
  | { name: 'metrics' }
  | { name: 'webhooks' }
  | { name: 'webhook'; id: string }
  | { name: 'policy' }
  | { name: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, id, ...rest] = parts;
  if (rest.length === 0) {
    if (first === undefined) return { name: 'queue' };
    if (first === 'handoffs' && id) return { name: 'handoff', id };
    if (first === 'sessions') return id ? { name: 'session', id } : { name: 'sessions' };
    if (first === 'runs') return id ? { name: 'run', id } : { name: 'runs' };
    if (first === 'metrics' && !id) return { name: 'metrics' };
    if (first === 'webhooks') return id ? { name: 'webhook', id } : { name: 'webhooks' };
    if (first === 'policy' && !id) return { name: 'policy' };
  }
  return { name: 'not-found', path };
}

export const paths = {
  queue: () => '#/',
  handoff: (id: string) => `#/handoffs/${encodeURIComponent(id)}`,
  sessions: () => '#/sessions',
  session: (id: string) => `#/sessions/${encodeURIComponent(id)}`,
  runs: () => '#/runs',
  run: (id: string) => `#/runs/${encodeURIComponent(id)}`,
  metrics: () => '#/metrics',
  webhooks: () => '#/webhooks',
  webhook: (id: string) => `#/webhooks/${encodeURIComponent(id)}`,
  policy: () => '#/policy',
};

export function navigate(hash: string) {
  if (location.hash !== hash) location.hash = hash;
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
