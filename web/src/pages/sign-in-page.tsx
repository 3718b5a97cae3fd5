import { useEffect, useState } from 'preact/hooks';
import type { DevTokens } from '../../../worker/dev/demo-users';
import { Alert } from '../components/alert';
import { readToken, signIn, signOutReason } from '../lib/auth';
import { useStore } from '../lib/store';

type DemoUser = DevTokens['users'][number];

/** Paste a token; in dev mode, or pick one of the demo users. */
export function SignInPage() {
  const reason = useStore(signOutReason);
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [demo, setDemo] = useState<DemoUser[] | null>(null);

  useEffect(() => {
    let live = true;
    fetch('/dev/tokens', { headers: { accept: 'application/json' } })
      .then(async (res) => (res.ok ? ((await res.json()) as DevTokens).users : []))
      .catch(() => [])
      .then((users) => live && setDemo(users));
    return () => {
      live = false;
    };
  }, []);

  const use = (raw: string) => {
    const check = readToken(raw);
    if (!check.ok) {
      setError(check.error);
      return;
    }
    signIn(check.session);
  };

  return (
    <main id="main" class="sign-in">
      <h1>Sign in to Switchboard</h1>
      <Alert class="notice" text={reason} />
      {demo && demo.length > 0 && (
        <section aria-labelledby="demo-heading" class="panel">
          <h2 id="demo-heading">Demo users</h2>
          <p class="hint">Dev mode is on: pick who you are.</p>
          <ul class="demo-users">
            {demo.map((u) => (
              <li key={u.id}>
                <button type="button" class="demo-user" onClick={() => use(u.token)}>
                  <span class="demo-name">{u.name}</span>
                  <span class="role">{u.role}</span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section aria-labelledby="token-heading" class="panel">
        <h2 id="token-heading">Use a token</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            use(token);
          }}
        >
          <label for="token">Bearer token (JWT)</label>
          <textarea
            id="token"
            rows={4}
            value={token}
            spellcheck={false}
            autocomplete="off"
            aria-describedby={error ? 'token-error' : 'token-hint'}
            aria-invalid={error ? true : undefined}
            onInput={(e) => {
              setToken((e.target as HTMLTextAreaElement).value);
              setError(null);
            }}
          />
          <p id="token-hint" class="hint">
            Locally: <code>npm run token -- --role engineer</code>
          </p>
          <Alert id="token-error" text={error} />
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
      </section>
    </main>
  );
}
