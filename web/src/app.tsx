import { useEffect, useState } from 'preact/hooks';

type Health = { ok: boolean; db: string } | { error: string };

// The shell of the site: it shows whether the API and its database answer.
export function App() {
  const [health, setHealth] = useState<Health | null>(null);
  useEffect(() => {
    fetch('/healthz')
      .then((r) => r.json() as Promise<Health>)
      .then(setHealth)
      .catch((e: unknown) => setHealth({ error: String(e) }));
  }, []);
  return (
    <main>
      <h1>Switchboard</h1>
      <p>
        API:{' '}
        {health === null
          ? 'checking…'
          : 'error' in health
            ? `unreachable (${health.error})`
            : `${health.ok ? 'up' : 'degraded'}, database ${health.db}`}
      </p>
    </main>
  );
}
