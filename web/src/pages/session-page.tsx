import { useState } from 'preact/hooks';
import {
  HANDOFF_INTENTS,
  type HandoffIntent,
  SEVERITIES,
  type Severity,
  STEP_OUTCOMES,
  type StepOutcome,
} from '../../../worker/contract/statuses';
import { Alert } from '../components/alert';
import { SelectField, TextAreaField, TextField } from '../components/fields';
import { LoadError } from '../components/load-status';
import { api, data, errorMessage } from '../lib/api';
import { canAct, type Session } from '../lib/auth';
import { formatTime } from '../lib/format';
import { feed } from '../lib/live-feed';
import { paths } from '../lib/router';
import { useAction } from '../lib/use-action';
import { useApi } from '../lib/use-api';
import { useUsers } from '../lib/use-users';
import { StepList } from './handoff-page';

/** One troubleshooting session: the problem, every step tried; record a step or escalate. */
export function SessionPage({ id, user }: { id: string; user: Session }) {
  const [s, reload] = useApi('/v1/sessions/{id}', { params: { path: { id } } });
  if (s.status === 'loading') return <p aria-busy="true">Loading the session…</p>;
  if (s.status === 'error') {
    return (
      <section>
        <h1>Session</h1>
        <LoadError failed={s} notFound="This session does not exist in your account." onRetry={reload} />
      </section>
    );
  }
  const session = s.data;
  return (
    <article aria-labelledby="session-heading" class="session">
      <p class="crumbs">
        <a href={paths.sessions()}>← Sessions</a>
      </p>
      <h1 id="session-heading">{session.title}</h1>
      <p class="handoff-meta">
        {session.customer ? `Customer ${session.customer} · ` : ''}opened {formatTime(session.created_at)}
      </p>
      <section class="panel" aria-labelledby="sp-problem">
        <h2 id="sp-problem">Problem</h2>
        <p class="prewrap">{session.problem_summary}</p>
      </section>
      <section class="panel" aria-labelledby="sp-steps">
        <h2 id="sp-steps">Steps</h2>
        {session.steps.length === 0 ? (
          <p class="empty">Nothing tried yet.</p>
        ) : (
          <StepList steps={session.steps} />
        )}
        {canAct(user) && <StepForm sessionId={id} onDone={reload} />}
      </section>
      {canAct(user) && <EscalateForm sessionId={id} me={user.userId} />}
    </article>
  );
}

function StepForm({ sessionId, onDone }: { sessionId: string; onDone: () => void }) {
  const [action, setAction] = useState('');
  const [outcome, setOutcome] = useState<StepOutcome>('failed');
  const [notes, setNotes] = useState('');
  const { error, run } = useAction();
  return (
    <form
      class="stack inline-form"
      aria-label="Record a step"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          await data(
            api.POST('/v1/sessions/{id}/steps', {
              params: { path: { id: sessionId } },
              body: { action, outcome, ...(notes.trim() ? { notes } : {}) },
            }),
          );
          setAction('');
          setNotes('');
          onDone();
        });
      }}
    >
      <TextField id="step-action" label="What did you try?" required value={action} onValue={setAction} />
      <SelectField
        id="step-outcome"
        label="Outcome"
        values={STEP_OUTCOMES}
        value={outcome}
        onValue={setOutcome}
      />
      <TextField id="step-notes" label="Notes (optional)" value={notes} onValue={setNotes} />
      <Alert text={error} />
      <button type="submit">Record step</button>
    </form>
  );
}

function EscalateForm({ sessionId, me }: { sessionId: string; me: string }) {
  const [reason, setReason] = useState('');
  const [severity, setSeverity] = useState<Severity>('normal');
  const [intent, setIntent] = useState<HandoffIntent>('escalate');
  const [toUser, setToUser] = useState('');
  // A transfer is offered to one engineer or admin of the account: they are asked first.
  const users = useUsers(intent === 'transfer');
  const targets =
    users.status === 'ready' ? users.data.items.filter((u) => u.role !== 'viewer' && u.id !== me) : [];
  const [result, setResult] = useState<{ ok: boolean; text: string; id?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <section class="panel" aria-labelledby="sp-escalate">
      <h2 id="sp-escalate">Escalate</h2>
      <form
        class="stack"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          try {
            const card = await data(
              api.POST('/v1/sessions/{id}/handoffs', {
                params: { path: { id: sessionId }, header: { 'idempotency-key': crypto.randomUUID() } },
                body: {
                  intent,
                  reason,
                  severity,
                  ...(intent === 'transfer' && toUser ? { to_user_id: toUser } : {}),
                },
              }),
            );
            feed.get()?.merge(card);
            setReason('');
            setResult({ ok: true, text: 'Escalated: it is in every engineer’s queue now.', id: card.id });
          } catch (err) {
            setResult({ ok: false, text: errorMessage(err) });
          } finally {
            setBusy(false);
          }
        }}
      >
        <TextAreaField
          id="esc-reason"
          label="Why are you stuck?"
          required
          rows={2}
          value={reason}
          onValue={setReason}
        />
        <div class="row">
          <span>
            <SelectField
              id="esc-severity"
              label="Severity"
              values={SEVERITIES}
              value={severity}
              onValue={setSeverity}
            />
          </span>
          <span>
            <SelectField
              id="esc-intent"
              label="Kind"
              values={HANDOFF_INTENTS}
              value={intent}
              onValue={setIntent}
            />
          </span>
          {intent === 'transfer' && (
            <span>
              <label for="esc-to">Offer it to</label>
              <select id="esc-to" required value={toUser} onChange={(e) => setToUser(e.currentTarget.value)}>
                <option value="">Choose someone…</option>
                {targets.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.name} ({u.role})
                  </option>
                ))}
              </select>
            </span>
          )}
        </div>
        {result && (
          <p class={result.ok ? 'ok' : 'error'} role="status">
            {result.text} {result.id && <a href={paths.handoff(result.id)}>View the hand-off</a>}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Escalate
        </button>
      </form>
    </section>
  );
}
