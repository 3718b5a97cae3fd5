import { useEffect, useState } from 'preact/hooks';
import { ACTIVE_HANDOFF_STATUSES, isOneOf } from '../../../worker/contract/statuses';
import { Alert } from '../components/alert';
import { Avatars } from '../components/avatars';
import { AskingBadge, levelLine } from '../components/escalation-card';
import { LoadError } from '../components/load-status';
import { SeverityPill } from '../components/severity-pill';
import { SlaClocks } from '../components/sla-clocks';
import { ApiFailure, api, data, errorMessage, type Schema } from '../lib/api';
import { canAct, type Session } from '../lib/auth';
import { emptyFeed } from '../lib/escalation-feed';
import { formatAge, formatTime } from '../lib/format';
import { feed } from '../lib/live-feed';
import { paths } from '../lib/router';
import { isAskingMe, notifyText } from '../lib/sla';
import { Store, useStore } from '../lib/store';
import { timelineText } from '../lib/timeline-text';
import { useApi } from '../lib/use-api';
import { useNow } from '../lib/use-now';
import { useUsers } from '../lib/use-users';
import { pickupFailureText } from './queue-page';

/** How often the page renews "I am looking at this card" (it counts for 30 s). */
const VIEWING_RENEW_MS = 15_000;

/**
 * Tells the account, through presence, that this user has the card open, while they do. Only
 * engineers and admins may (a viewer reads; the API answers them 403).
 */
function useViewing(id: string, enabled: boolean) {
  useEffect(() => {
    if (!enabled) return;
    const say = (method: 'PUT' | 'DELETE') => {
      const call = method === 'PUT' ? api.PUT : api.DELETE;
      void call('/v1/handoffs/{id}/viewing', { params: { path: { id } } }).catch(() => undefined);
    };
    say('PUT');
    const timer = setInterval(() => say('PUT'), VIEWING_RENEW_MS);
    return () => {
      clearInterval(timer);
      say('DELETE');
    };
  }, [id, enabled]);
}

const ACTIONS = {
  pickup: '/v1/handoffs/{id}/pickup',
  resolve: '/v1/handoffs/{id}/resolve',
  cancel: '/v1/handoffs/{id}/cancel',
} as const;

const EMPTY = new Store(emptyFeed(false, { state: 'closed', attempt: 0 }));

/** The pick-up screen: what the problem is, what was tried, the AI's view, and where to start. */
export function HandoffPage({ id, user }: { id: string; user: Session }) {
  const [ctx, reload] = useApi('/v1/handoffs/{id}/context', { params: { path: { id } } });
  const [timeline, reloadTimeline] = useApi('/v1/handoffs/{id}/timeline', { params: { path: { id } } });
  const users = useUsers();
  const f = useStore(feed);
  const feedState = useStore(f?.state ?? EMPTY);
  const now = useNow(1_000);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [releaseReason, setReleaseReason] = useState('');
  useViewing(id, canAct(user));
  const live = feedState.cards.find((c) => c.id === id);
  const liveVersion = live?.version ?? 0;
  // Every change of the card is a timeline row: read it again when the card changes.
  useEffect(() => {
    if (liveVersion > 0) reloadTimeline();
  }, [liveVersion]);

  if (ctx.status === 'loading') return <p aria-busy="true">Loading the hand-off…</p>;
  if (ctx.status === 'error') {
    return (
      <section>
        <h1>Hand-off</h1>
        <LoadError failed={ctx} notFound="This hand-off does not exist in your account." />
        <a href={paths.queue()}>Back to the queue</a>
      </section>
    );
  }
  // The live card wins when it is newer: the assessment fills in as escalation.assessed arrives.
  const card = live && live.version > ctx.data.handoff.version ? live : ctx.data.handoff;
  const names = new Map(users.status === 'ready' ? users.data.items.map((u) => [u.id, u.name]) : []);
  const nameOf = (uid: string) => names.get(uid) ?? 'a former user';
  const viewers = (feedState.presence.viewing[id] ?? []).filter((p) => p.user_id !== user.userId);
  const level = levelLine(card, now);
  const canRelease =
    card.status === 'picked_up' && (card.picked_up_by?.id === user.userId || user.role === 'admin');
  const aiStatus = card.ai_status;
  const assessment = card.ai_assessment ?? ctx.data.ai_assessment;
  const startHere = assessment?.suggested_next_steps[0] ?? ctx.data.start_here.summary;
  const mine = card.picked_up_by?.id === user.userId;

  const act = async (action: keyof typeof ACTIONS | 'release') => {
    setBusy(true);
    setNotice(null);
    try {
      const updated = await data(
        action === 'release'
          ? api.POST('/v1/handoffs/{id}/release', {
              params: { path: { id } },
              body: releaseReason.trim() ? { reason: releaseReason.trim() } : {},
            })
          : api.POST(ACTIONS[action], { params: { path: { id } } }),
      );
      f?.merge(updated);
      setReleaseReason('');
      reload();
      reloadTimeline();
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
        {isAskingMe(card, user) && <AskingBadge />}
        <Avatars people={viewers} label="Also viewing" showLabel />
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
      <div class="handoff-clocks">
        <SlaClocks card={card} now={now} />
        {card.status === 'open' && (
          <p class="card-level" data-testid="asking">
            Asking {notifyText(card, nameOf)}
            {level ? ` · ${level}` : ''}
          </p>
        )}
      </div>
      <Alert class="notice" text={notice} />
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
          <h2 id="ai-heading">
            {assessment?.source === 'heuristic' ? 'Assessment' : 'AI assessment'}
            {assessment && (
              <span class="source-label" data-source={assessment.source}>
                {assessment.source === 'heuristic' ? 'heuristic, no model' : assessment.provider}
              </span>
            )}
          </h2>
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
                <p data-testid="likely-cause">
                  <strong>Likely cause:</strong> {assessment.likely_cause}
                </p>
              )}
              {(assessment.ruled_out?.length ?? 0) > 0 && (
                <>
                  <h3>What the steps rule out</h3>
                  <ul class="ruled-out" data-testid="ruled-out">
                    {assessment.ruled_out?.map((s) => (
                      <li key={s}>{s}</li>
                    ))}
                  </ul>
                </>
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
                  ? 'Drawn by rules from the summary and the steps recorded, not by a language model (none is configured).'
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
          {isOneOf(ACTIVE_HANDOFF_STATUSES, card.status) && (
            <>
              <button type="button" disabled={busy} onClick={() => act('resolve')}>
                Mark resolved
              </button>
              <button type="button" disabled={busy} onClick={() => act('cancel')}>
                Cancel hand-off
              </button>
            </>
          )}
          {canRelease && (
            <form
              class="release-form"
              onSubmit={(e) => {
                e.preventDefault();
                void act('release');
              }}
            >
              <label for="release-reason">Why hand it back? (optional)</label>
              <input
                id="release-reason"
                value={releaseReason}
                maxLength={2000}
                onInput={(e) => setReleaseReason(e.currentTarget.value)}
              />
              <button type="submit" disabled={busy}>
                Release to the queue
              </button>
            </form>
          )}
        </div>
      )}
      <section class="panel timeline" aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        {timeline.status === 'loading' && <p aria-busy="true">Loading…</p>}
        {timeline.status === 'error' && <p class="error">{timeline.error}</p>}
        {timeline.status === 'ready' && (
          <ol class="timeline-list">
            {timeline.data.items.map((item) => (
              <li
                key={item.version}
                class="timeline-item"
                data-type={item.type}
                data-system={item.actor === null}
              >
                <time dateTime={item.at} title={formatTime(item.at)}>
                  {formatTime(item.at)}
                </time>
                <span class="timeline-text">{timelineText(item, nameOf)}</span>
              </li>
            ))}
          </ol>
        )}
      </section>
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
