import { useState } from 'preact/hooks';
import type { EscalationCard } from '../../../worker/contract/events';
import {
  ACTIVE_HANDOFF_STATUSES,
  HANDOFF_STATUSES,
  type HandoffStatus,
} from '../../../worker/contract/statuses';
import { EscalationCardView } from '../components/escalation-card';
import { ApiFailure, api, data, errorMessage } from '../lib/api';
import { canAct, type Session } from '../lib/auth';
import type { EscalationFeed } from '../lib/escalation-feed';
import { feed } from '../lib/live-feed';
import { navigate, paths } from '../lib/router';
import { useStore } from '../lib/store';
import { useNow } from '../lib/use-now';

type Filter = 'active' | 'open' | 'all';
const FILTERS: { value: Filter; label: string; statuses: readonly HandoffStatus[] }[] = [
  { value: 'active', label: 'Active', statuses: ACTIVE_HANDOFF_STATUSES },
  { value: 'open', label: 'Waiting', statuses: ['open'] },
  { value: 'all', label: 'All', statuses: HANDOFF_STATUSES },
];

export function QueuePage({ user }: { user: Session }) {
  const f = useStore(feed);
  if (!f) return null;
  return <Queue feed={f} user={user} />;
}

/** Someone else got it first: say who, plainly. */
export function pickupFailureText(err: unknown): string {
  if (err instanceof ApiFailure && err.code === 'already_picked_up') {
    const by = (err.details as { picked_up_by?: { name?: string } } | undefined)?.picked_up_by?.name;
    return `${by ?? 'Someone else'} got it first: this escalation is already picked up.`;
  }
  return `Could not pick it up: ${errorMessage(err)}`;
}

function Queue({ feed: f, user }: { feed: EscalationFeed; user: Session }) {
  const state = useStore(f.state);
  const now = useNow();
  const [filter, setFilter] = useState<Filter>('active');
  const [busy, setBusy] = useState<string | null>(null);
  const [notices, setNotices] = useState<Record<string, string>>({});
  const statuses = FILTERS.find((x) => x.value === filter)?.statuses ?? [];
  const shown = state.cards.filter((c) => statuses.includes(c.status));
  const open = state.cards.filter((c) => c.status === 'open').length;

  const pickUp = async (card: EscalationCard) => {
    setBusy(card.id);
    try {
      const updated = await data(api.POST('/v1/handoffs/{id}/pickup', { params: { path: { id: card.id } } }));
      f.merge(updated);
      navigate(paths.handoff(card.id));
    } catch (err) {
      setNotices((n) => ({ ...n, [card.id]: pickupFailureText(err) }));
      if (err instanceof ApiFailure && err.status === 409) void f.reload();
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby="queue-heading">
      <div class="page-head">
        <h1 id="queue-heading">Escalation queue</h1>
        <p class="counts" aria-live="polite">
          <span data-testid="open-count">{open}</span> waiting
        </p>
      </div>
      <fieldset class="segmented">
        <legend class="visually-hidden">Show</legend>
        {FILTERS.map((x) => (
          <label key={x.value}>
            <input
              type="radio"
              name="queue-filter"
              value={x.value}
              checked={filter === x.value}
              onChange={() => setFilter(x.value)}
            />
            <span>{x.label}</span>
          </label>
        ))}
      </fieldset>
      {state.error && (
        <p class="error" role="alert">
          Could not load the queue: {state.error}. Retrying…
        </p>
      )}
      {state.loading ? (
        <ul class="cards" aria-busy="true" aria-label="Escalations">
          {[0, 1, 2].map((i) => (
            <li key={i} class="card skeleton" aria-hidden="true" />
          ))}
        </ul>
      ) : shown.length === 0 ? (
        <p class="empty">
          Nothing here. New escalations appear at the top as they happen; open a{' '}
          <a href={paths.sessions()}>session</a> to escalate one.
        </p>
      ) : (
        <ul class="cards" aria-label="Escalations" aria-live="polite" aria-relevant="additions">
          {shown.map((card) => (
            <EscalationCardView
              key={card.id}
              card={card}
              now={now}
              entering={state.arrived.has(card.id)}
              canPickUp={canAct(user)}
              busy={busy === card.id}
              notice={notices[card.id] ?? null}
              onPickUp={pickUp}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
