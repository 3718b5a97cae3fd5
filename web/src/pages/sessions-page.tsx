import { useState } from 'preact/hooks';
import { TextAreaField, TextField } from '../components/fields';
import { FormSubmit } from '../components/form-submit';
import { LoadedItems } from '../components/load-status';
import { api, data } from '../lib/api';
import { canAct, type Session } from '../lib/auth';
import { formatAge } from '../lib/format';
import { navigate, paths } from '../lib/router';
import { useAction } from '../lib/use-action';
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
      <LoadedItems loaded={list} empty="No sessions yet.">
        {(items) => (
          <ul class="rows">
            {items.map((s) => (
              <li key={s.id}>
                <a href={paths.session(s.id)} class="row-link">
                  <span class="row-title">{s.title}</span>
                  <span class="row-sub">{s.customer ?? '—'}</span>
                  <span class="row-age">{formatAge(s.updated_at, now)}</span>
                </a>
              </li>
            ))}
          </ul>
        )}
      </LoadedItems>
    </section>
  );
}

function NewSessionForm() {
  const [title, setTitle] = useState('');
  const [summary, setSummary] = useState('');
  const [customer, setCustomer] = useState('');
  const { busy, error, run } = useAction();
  return (
    <details class="panel">
      <summary>Open a new session</summary>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const created = await data(
              api.POST('/v1/sessions', {
                body: { title, problem_summary: summary, ...(customer.trim() ? { customer } : {}) },
              }),
            );
            navigate(paths.session(created.id));
          });
        }}
      >
        <TextField id="s-title" label="Title" required maxLength={200} value={title} onValue={setTitle} />
        <TextAreaField
          id="s-summary"
          label="Problem summary"
          required
          rows={3}
          value={summary}
          onValue={setSummary}
        />
        <TextField
          id="s-customer"
          label="Customer (optional)"
          maxLength={200}
          value={customer}
          onValue={setCustomer}
        />
        <FormSubmit busy={busy} error={error}>
          Open session
        </FormSubmit>
      </form>
    </details>
  );
}
