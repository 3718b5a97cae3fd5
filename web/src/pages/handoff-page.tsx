import { useState } from 'preact/hooks';
import { SeverityPill } from '../components/severity-pill';
import { ApiFailure, api, data, errorMessage, type Schema } from '../lib/api';
import { canAct, type Session } from '../lib/auth';
import type { FeedState } from '../lib/escalation-feed';
import { formatAge, formatTime } from '../lib/format';
import { feed } from '../lib/live-feed';
import { paths } from '../lib/router';
import { Store, useStore } from '../lib/store';
import { useApi } from '../lib/use-api';
import { useNow } from '../lib/use-now';
import { pickupFailureText } from './queue-page';

const ACTIONS = {
  pickup: '/v1/handoffs/{id}/pickup',
  resolve: '/v1/handoffs/{id}/resolve',
  cancel: '/v1/handoffs/{id}/cancel',
} as const;

const EMPTY = new Store<FeedState>({
  cards: [],
  arrived: new Set(),
  loading: false,
  error: null,
  stream: { state: 'closed', attempt: 0 },
});

/** The pick-up screen: what the problem is, what was tried, the AI's view, and where to start. */
export function HandoffPage({ id, user }: { id: string; user: Session }) {
  const [ctx, reload] = useApi('/v1/handoffs/{id}/context', { params: { path: { id } } });
  const f = useStore(feed);
  const feedState = useStore(f?.state ?? EMPTY);
  const now = useNow();
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (ctx.status === 'loading') return <p aria-busy="true">Loading the hand-off…</p>;
  if (ctx.status === 'error') {
    return (
      <section>
        <h1>Hand-off</h1>
        <p class="error" role="alert">
          {ctx.httpStatus === 404 ? 'This hand-off does not exist in your account.' : ctx.error}
        </p>
        <a href={paths.queue()}>Back to the queue</a>
      </section>
    );
  }
  // The live card wins when it is newer: the assessment fills in as escalation.assessed arrives.
  const live = feedState.cards.find((c) => c.id === id);
  const card = live && live.version > ctx.data.handoff.version ? live : ctx.data.handoff;
  const aiStatus = card.ai_status;
  const assessment = card.ai_assessment ?? ctx.data.ai_assessment;
  const startHere = assessment?.suggested_next_steps[0] ?? ctx.data.start_here.summary;
  const mine = card.picked_up_by?.id === user.userId;

  const act = async (action: keyof typeof ACTIONS) => {
    setBusy(true);
    setNotice(null);
    try {
      const updated = await data(api.POST(ACTIONS[action], { params: { path: { id } } }));
      f?.merge(updated);
      reload();
    } catch (err) {
      setNotice(action === 'pickup' ? pickupFailureText(err) : `Could not ${action}: ${errorMessage(err)}`);
      if (err instanceof ApiFailure && err.status === 409) reload();
    } finally {
      setBusy(false);
    }
  };

  return (
    <article class="handoff" aria-labelledby="handoff-heading" data-status={card.status}>
      <p class="crumbs">
        <a href={paths.queue()}>← Queue</a>
      </p>
      <div class="page-head">
        <h1 id="handoff-heading">{card.session.title}</h1>
        <SeverityPill severity={card.severity} />
      </div>
      <p class="handoff-meta">
        {card.intent === 'transfer' ? 'Transferred' : 'Escalated'} by {card.created_by.name}{' '}
        <time dateTime={card.created_at} title={formatTime(card.created_at)}>
          {formatAge(card.created_at, now)}
        </time>
        {card.session.customer ? ` · customer ${card.session.customer}` : ''} ·{' '}
        <strong data-testid="handoff-status">
          {card.status === 'picked_up'
            ? mine
              ? 'You picked it up'
              : `Picked up by ${card.picked_up_by?.name ?? 'someone'}`
            : card.status === 'open'
              ? 'Waiting for pick-up'
              : card.status}
        </strong>
      </p>
      {notice && (
        <p class="notice" role="alert">
          {notice}
        </p>
      )}
      <div class="handoff-grid">
        <section aria-labelledby="problem-heading" class="panel">
          <h2 id="problem-heading">Problem</h2>
          <p class="prewrap" data-testid="problem-summary">
            {ctx.data.problem_summary}
          </p>
          <h3>Why it was escalated</h3>
          <p class="prewrap">{card.reason}</p>
        </section>
        <section
          aria-labelledby="ai-heading"
          class="panel ai"
          data-ai={aiStatus}
          aria-live="polite"
          aria-busy={aiStatus === 'pending'}
        >
          <h2 id="ai-heading">AI assessment</h2>
          {aiStatus === 'pending' && (
            <p class="pending" data-testid="ai-pending">
              <span class="spinner" aria-hidden="true" /> Assessing… it appears here as soon as it is ready.
            </p>
          )}
          {aiStatus === 'failed' && (
            <p class="error">The assessment failed{card.ai_error ? `: ${card.ai_error}` : ''}.</p>
          )}
          {aiStatus === 'done' && assessment && (
            <div data-testid="ai-assessment">
              <p>{assessment.summary}</p>
              {assessment.likely_cause && (
                <p>
                  <strong>Likely cause:</strong> {assessment.likely_cause}
                </p>
              )}
              {assessment.suggested_next_steps.length > 0 && (
                <>
                  <h3>Suggested next steps</h3>
                  <ol>
                    {assessment.suggested_next_steps.map((s) => (
                      <li key={s}>{s}</li>
                    ))}
                  </ol>
                </>
              )}
              <p class="hint">
                {assessment.source === 'heuristic'
                  ? 'Heuristic summary (no language model configured).'
                  : `From ${assessment.provider}${assessment.model ? ` (${assessment.model})` : ''}.`}
              </p>
            </div>
          )}
        </section>
        <section aria-labelledby="tried-heading" class="panel tried">
          <h2 id="tried-heading">What has been tried</h2>
          {ctx.data.tried.length === 0 ? (
            <p class="empty">Nothing recorded yet.</p>
          ) : (
            <StepList steps={ctx.data.tried} />
          )}
        </section>
        <section aria-labelledby="start-heading" class="panel start-here">
          <h2 id="start-heading">Start here</h2>
          <p data-testid="start-here">{startHere}</p>
          <a class="button primary" href={paths.session(ctx.data.start_here.session_id)}>
            Open the session
          </a>
        </section>
      </div>
      {canAct(user) && (
        <div class="actions">
          {card.status === 'open' && (
            <button type="button" class="primary" disabled={busy} onClick={() => act('pickup')}>
              Pick up
            </button>
          )}
          {(card.status === 'open' || card.status === 'picked_up') && (
            <>
              <button type="button" disabled={busy} onClick={() => act('resolve')}>
                Mark resolved
              </button>
              <button type="button" disabled={busy} onClick={() => act('cancel')}>
                Cancel hand-off
              </button>
            </>
          )}
        </div>
      )}
    </article>
  );
}

export function StepList({ steps }: { steps: Schema<'Step'>[] }) {
  return (
    <ol class="steps">
      {steps.map((s) => (
        <li key={s.id} class="step" data-outcome={s.outcome}>
          <span class="outcome" data-outcome={s.outcome}>
            {s.outcome}
          </span>
          <span class="step-action">{s.action}</span>
          {s.notes && <span class="step-notes">{s.notes}</span>}
        </li>
      ))}
    </ol>
  );
}
