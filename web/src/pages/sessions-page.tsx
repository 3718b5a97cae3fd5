import { useState } from 'preact/hooks';
import { LoadStatus } from '../components/load-status';
import { api, data, errorMessage } from '../lib/api';
import { canAct, type Session } from '../lib/auth';
import { formatAge } from '../lib/format';
import { navigate, paths } from '../lib/router';
import { useApi } from '../lib/use-api';
import { useNow } from '../lib/use-now';

/** Troubleshooting sessions: the list, and opening a new one. */
export function SessionsPage({ user }: { user: Session }) {
  const [list] = useApi('/v1/sessions', { params: { query: { limit: 50 } } });
  const now = useNow();
  return (
    <section aria-labelledby="sessions-heading">
      <div class="page-head">
        <h1 id="sessions-heading">Sessions</h1>
      </div>
      {canAct(user) && <NewSessionForm />}
      <LoadStatus loaded={list} />
      {list.status === 'ready' &&
        (list.data.items.length === 0 ? (
          <p class="empty">No sessions yet.</p>
        ) : (
          <ul class="rows">
            {list.data.items.map((s) => (
              <li key={s.id}>
                <a href={paths.session(s.id)} class="row-link">
                  <span class="row-title">{s.title}</span>
                  <span class="row-sub">{s.customer ?? '—'}</span>
                  <span class="row-age">{formatAge(s.updated_at, now)}</span>
                </a>
              </li>
            ))}
          </ul>
        ))}
    </section>
  );
}

function NewSessionForm() {
  const [title, setTitle] = useState('');
  const [summary, setSummary] = useState('');
  const [customer, setCustomer] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <details class="panel">
      <summary>Open a new session</summary>
      <form
        class="stack"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const created = await data(
              api.POST('/v1/sessions', {
                body: { title, problem_summary: summary, ...(customer.trim() ? { customer } : {}) },
              }),
            );
            navigate(paths.session(created.id));
          } catch (err) {
            setError(errorMessage(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="s-title">Title</label>
        <input
          id="s-title"
          required
          maxLength={200}
          value={title}
          onInput={(e) => setTitle(e.currentTarget.value)}
        />
        <label for="s-summary">Problem summary</label>
        <textarea
          id="s-summary"
          required
          rows={3}
          value={summary}
          onInput={(e) => setSummary(e.currentTarget.value)}
        />
        <label for="s-customer">Customer (optional)</label>
        <input
          id="s-customer"
          maxLength={200}
          value={customer}
          onInput={(e) => setCustomer(e.currentTarget.value)}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Open session
        </button>
      </form>
    </details>
  );
}
