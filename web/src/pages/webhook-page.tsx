import { useEffect, useState } from 'preact/hooks';
import { EventPicker } from '../components/event-picker';
import { LoadError, LoadStatus } from '../components/load-status';
import { SecretReveal } from '../components/secret-reveal';
import { api, data, errorMessage } from '../lib/api';
import type { Session } from '../lib/auth';
import { formatAge, formatTime } from '../lib/format';
import { navigate, paths } from '../lib/router';
import { useApi } from '../lib/use-api';
import { useNow } from '../lib/use-now';
import {
  type Delivery,
  durationText,
  type Endpoint,
  endpointState,
  nextAttemptText,
  type Selector,
  STATUS_TEXT,
} from '../lib/webhooks';

const LIVE_EVERY_MS = 3_000;
const STATUS_ICON: Record<Delivery['status'], string> = { succeeded: '✓', pending: '↻', failed: '✕' };
type StatusFilter = '' | Delivery['status'];

/** Admins: one endpoint, its controls, and its delivery log (live, or refreshed on demand). */
export function WebhookPage({ id, user }: { id: string; user: Session }) {
  const isAdmin = user.role === 'admin';
  const [ep, reloadEp] = useApi(isAdmin ? '/v1/webhooks/{id}' : null, { params: { path: { id } } });
  const [filter, setFilter] = useState<StatusFilter>('');
  const [log, reloadLog] = useApi(isAdmin ? '/v1/webhooks/{id}/deliveries' : null, {
    params: { path: { id }, query: { limit: 50, ...(filter ? { status: filter } : {}) } },
  });
  const [live, setLive] = useState(true);
  const [secret, setSecret] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const now = useNow(1_000);

  useEffect(() => {
    if (!live || !isAdmin) return;
    const t = setInterval(() => {
      if (document.hidden) return;
      reloadLog();
      reloadEp();
    }, LIVE_EVERY_MS);
    return () => clearInterval(t);
  }, [live, isAdmin]);

  if (!isAdmin) {
    return (
      <section>
        <h1>Webhook</h1>
        <p class="notice">Webhooks are managed by admins of the account.</p>
      </section>
    );
  }
  const act = async (what: string, fn: () => Promise<string | undefined>) => {
    setMessage(null);
    try {
      const text = await fn();
      setMessage({ kind: 'ok', text: text ?? `${what}: done.` });
      reloadEp();
      reloadLog();
    } catch (err) {
      setMessage({ kind: 'error', text: `${what}: ${errorMessage(err)}` });
    }
  };
  return (
    <section aria-labelledby="webhook-heading">
      <p class="crumbs">
        <a href={paths.webhooks()}>← Webhooks</a>
      </p>
      <LoadStatus loaded={ep} notFound="This endpoint does not exist (any more)." />
      {ep.status === 'ready' && (
        <>
          <div class="page-head">
            <h1 id="webhook-heading">{ep.data.description ?? 'Webhook endpoint'}</h1>
            <span class="endpoint-state" data-state={endpointState(ep.data).key}>
              {endpointState(ep.data).text}
            </span>
          </div>
          <p class="webhook-url mono">{ep.data.url}</p>
          <p class="hint">
            {ep.data.format === 'slack' ? 'Slack messages' : 'Standard Webhooks JSON'}, events{' '}
            {ep.data.events.join(', ')}.
            {ep.data.previous_secret_expires_at &&
              ` Signed with the new and the old secret until ${formatTime(ep.data.previous_secret_expires_at)}.`}
          </p>
          {secret && (
            <SecretReveal secret={secret} title="The new signing secret" onDone={() => setSecret(null)} />
          )}
          <Controls
            endpoint={ep.data}
            act={act}
            onSecret={setSecret}
            onDeleted={() => navigate(paths.webhooks())}
          />
          {message && (
            <p class={message.kind} role={message.kind === 'error' ? 'alert' : 'status'}>
              {message.text}
            </p>
          )}
          <EventsEditor endpoint={ep.data} act={act} />
        </>
      )}
      <section class="panel" aria-labelledby="log-heading">
        <div class="page-head">
          <h2 id="log-heading">Delivery log</h2>
          <label class="check">
            <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} />
            Live (every {LIVE_EVERY_MS / 1000} s)
          </label>
          <label for="log-filter" class="inline-label">
            Show
          </label>
          <select
            id="log-filter"
            class="narrow"
            value={filter}
            onChange={(e) => setFilter(e.currentTarget.value as StatusFilter)}
          >
            <option value="">every attempt</option>
            <option value="succeeded">delivered</option>
            <option value="pending">will retry</option>
            <option value="failed">failed</option>
          </select>
          <button type="button" onClick={() => reloadLog()}>
            Refresh
          </button>
        </div>
        {log.status === 'error' && <LoadError failed={log} onRetry={reloadLog} />}
        {log.status === 'ready' &&
          (log.data.items.length === 0 ? (
            <p class="empty">No deliveries yet. Send a test to see one.</p>
          ) : (
            <DeliveryTable items={log.data.items} now={now} />
          ))}
      </section>
    </section>
  );
}

function Controls({
  endpoint: e,
  act,
  onSecret,
  onDeleted,
}: {
  endpoint: Endpoint;
  act: (what: string, fn: () => Promise<string | undefined>) => Promise<void>;
  onSecret: (secret: string) => void;
  onDeleted: () => void;
}) {
  const [confirm, setConfirm] = useState<'rotate' | 'delete' | null>(null);
  // One question open at a time: asking one closes the other.
  const ask = (which: 'rotate' | 'delete') => ({
    asking: confirm === which,
    onAsk: () => setConfirm(which),
    onKeep: () => setConfirm(null),
  });
  const path = { params: { path: { id: e.id } } };
  return (
    <div class="actions webhook-actions">
      <button
        type="button"
        onClick={() =>
          act(e.enabled ? 'Disable' : 'Enable', async () => {
            await data(api.PATCH('/v1/webhooks/{id}', { ...path, body: { enabled: !e.enabled } }));
            return e.enabled ? 'Disabled: nothing is sent until it is enabled again.' : 'Enabled.';
          })
        }
      >
        {e.enabled ? 'Disable' : 'Enable'}
      </button>
      <button
        type="button"
        onClick={() =>
          act('Test', async () => {
            const sent = await data(api.POST('/v1/webhooks/{id}/test', path));
            return `Test queued (webhook-id ${sent.event_id}); it appears in the log below.`;
          })
        }
      >
        Send a test
      </button>
      <AskFirst
        {...ask('rotate')}
        label="Rotate secret…"
        question="Rotate the secret?"
        text="Rotate? The old secret keeps signing for 24 h."
        confirmLabel="Rotate now"
        onConfirm={() =>
          act('Rotate', async () => {
            setConfirm(null);
            const rotated = await data(
              api.PATCH('/v1/webhooks/{id}', { ...path, body: { rotate_secret: true } }),
            );
            if (rotated.secret) onSecret(rotated.secret);
            return 'Secret rotated.';
          })
        }
      />
      <AskFirst
        {...ask('delete')}
        danger
        label="Delete…"
        question="Delete the endpoint?"
        text="Delete it and its log?"
        confirmLabel="Delete now"
        onConfirm={() =>
          act('Delete', async () => {
            await api.DELETE('/v1/webhooks/{id}', path);
            onDeleted();
            return 'Deleted.';
          })
        }
      />
    </div>
  );
}

/**
 * A button whose action asks first: while `asking`, the question, and the button that does it,
 * stand in its place. `danger` for what cannot be undone.
 */
function AskFirst({
  asking,
  onAsk,
  onKeep,
  label,
  question,
  text,
  confirmLabel,
  danger = false,
  onConfirm,
}: {
  asking: boolean;
  onAsk: () => void;
  onKeep: () => void;
  label: string;
  /** The question as screen readers name the group. */
  question: string;
  text: string;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
}) {
  if (!asking) {
    return (
      <button type="button" class={danger ? 'danger' : undefined} onClick={onAsk}>
        {label}
      </button>
    );
  }
  return (
    <fieldset class="confirm">
      <legend class="visually-hidden">{question}</legend>
      {text}
      <button type="button" class={danger ? 'danger' : 'primary'} onClick={onConfirm}>
        {confirmLabel}
      </button>
      <button type="button" onClick={onKeep}>
        Keep it
      </button>
    </fieldset>
  );
}

function EventsEditor({
  endpoint: e,
  act,
}: {
  endpoint: Endpoint;
  act: (what: string, fn: () => Promise<string | undefined>) => Promise<void>;
}) {
  const [events, setEvents] = useState<Selector[]>(e.events as Selector[]);
  const changed = JSON.stringify([...events].sort()) !== JSON.stringify([...e.events].sort());
  return (
    <details class="panel">
      <summary>Change events</summary>
      <EventPicker value={events} onChange={setEvents} idPrefix={`edit-${e.id}`} />
      <button
        type="button"
        class="primary"
        disabled={!changed || events.length === 0}
        onClick={() =>
          act('Save events', async () => {
            await data(api.PATCH('/v1/webhooks/{id}', { params: { path: { id: e.id } }, body: { events } }));
            return 'Events saved.';
          })
        }
      >
        Save events
      </button>
    </details>
  );
}

function DeliveryTable({ items, now }: { items: Delivery[]; now: number }) {
  return (
    <div class="table-scroll">
      <table class="deliveries">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Event</th>
            <th scope="col">Attempt</th>
            <th scope="col">Status</th>
            <th scope="col">Answer</th>
            <th scope="col">Duration</th>
            <th scope="col">Next attempt</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id} data-status={d.status}>
              <td title={formatTime(d.at)}>{formatAge(d.at, now)}</td>
              <td>
                {d.type}
                <span class="hint mono event-id">{d.event_id}</span>
              </td>
              <td class="num">{d.attempt}</td>
              <td>
                <span class="delivery-status" data-status={d.status}>
                  <span aria-hidden="true">{STATUS_ICON[d.status]}</span> {STATUS_TEXT[d.status]}
                </span>
              </td>
              <td class="num">{d.response_status ?? '—'}</td>
              <td class="num">{durationText(d.duration_ms)}</td>
              <td>{nextAttemptText(d, now)}</td>
              <td>
                {d.error || d.response_body ? (
                  <details>
                    <summary>{d.error ?? 'answer'}</summary>
                    {d.response_body && <pre>{d.response_body}</pre>}
                  </details>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
