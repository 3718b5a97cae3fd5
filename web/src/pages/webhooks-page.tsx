import { useState } from 'preact/hooks';
import { WEBHOOK_FORMATS, type WebhookFormat } from '../../../worker/contract/statuses';
import { EventPicker } from '../components/event-picker';
import { TextField } from '../components/fields';
import { FormSubmit } from '../components/form-submit';
import { LoadedItems } from '../components/load-status';
import { SecretReveal } from '../components/secret-reveal';
import { api, data } from '../lib/api';
import type { Session } from '../lib/auth';
import { paths } from '../lib/router';
import { useAction } from '../lib/use-action';
import { useApi } from '../lib/use-api';
import { type Endpoint, endpointState, originOf, type Selector } from '../lib/webhooks';

/** Admins: the account's outbound endpoints, and adding one (its secret shown once). */
export function WebhooksPage({ user }: { user: Session }) {
  const [list, reload] = useApi(user.role === 'admin' ? '/v1/webhooks' : null, {
    params: { query: { limit: 200 } },
  });
  const [created, setCreated] = useState<{ id: string; secret: string } | null>(null);
  if (user.role !== 'admin') {
    return (
      <section>
        <h1>Webhooks</h1>
        <p class="notice">Webhooks are managed by admins of the account.</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="webhooks-heading">
      <div class="page-head">
        <h1 id="webhooks-heading">Webhooks</h1>
      </div>
      <p class="hint">
        Escalation and run events sent to your systems or to Slack, signed per Standard Webhooks, retried with
        backoff for about a day.
      </p>
      {created ? (
        <>
          <SecretReveal
            secret={created.secret}
            title="Signing secret of the new endpoint"
            onDone={() => setCreated(null)}
          />
          <p>
            <a href={paths.webhook(created.id)}>Open the endpoint</a> to send a test and watch its deliveries.
          </p>
        </>
      ) : (
        <NewEndpointForm
          onCreated={(e) => {
            setCreated(e);
            reload();
          }}
        />
      )}
      <h2>Endpoints</h2>
      <LoadedItems loaded={list} empty="No endpoints yet.">
        {(items) => (
          <ul class="rows webhook-rows">
            {items.map((e) => (
              <EndpointRow key={e.id} endpoint={e} />
            ))}
          </ul>
        )}
      </LoadedItems>
    </section>
  );
}

function EndpointRow({ endpoint: e }: { endpoint: Endpoint }) {
  const state = endpointState(e);
  return (
    <li data-id={e.id}>
      <a href={paths.webhook(e.id)} class="row-link">
        <span class="row-title">
          {e.description ?? originOf(e.url)}
          <span class="row-sub webhook-url">{e.url}</span>
        </span>
        <span class="format-pill">{e.format === 'slack' ? 'Slack' : 'Standard'}</span>
        <span class="row-sub">{e.events.join(', ')}</span>
        <span class="endpoint-state" data-state={state.key}>
          {state.text}
        </span>
      </a>
    </li>
  );
}

/** The formats as the form offers them. */
const FORMAT_NAMES: Record<WebhookFormat, string> = { standard: 'Standard Webhooks', slack: 'Slack' };

function NewEndpointForm({ onCreated }: { onCreated: (e: { id: string; secret: string }) => void }) {
  const [url, setUrl] = useState('');
  const [format, setFormat] = useState<WebhookFormat>('standard');
  const [events, setEvents] = useState<Selector[]>(['escalation.*']);
  const [description, setDescription] = useState('');
  const { busy, error, setError, run } = useAction();
  return (
    <details class="panel" open>
      <summary>Add an endpoint</summary>
      <form
        class="stack"
        onSubmit={(ev) => {
          ev.preventDefault();
          if (events.length === 0) {
            setError('Choose at least one event.');
            return;
          }
          void run(async () => {
            const made = await data(
              api.POST('/v1/webhooks', {
                body: { url, format, events, ...(description.trim() ? { description } : {}) },
              }),
            );
            setUrl('');
            setDescription('');
            onCreated({ id: made.id, secret: made.secret });
          });
        }}
      >
        <label for="wh-url">Endpoint URL</label>
        <input
          id="wh-url"
          type="url"
          required
          placeholder="https://hooks.example.com/switchboard"
          value={url}
          onInput={(e) => setUrl(e.currentTarget.value)}
        />
        <TextField
          id="wh-description"
          label="Name (optional)"
          maxLength={500}
          placeholder="On-call Slack channel"
          value={description}
          onValue={setDescription}
        />
        <fieldset class="segmented">
          <legend>Format</legend>
          {WEBHOOK_FORMATS.map((f) => (
            <label key={f}>
              <input type="radio" name="wh-format" checked={format === f} onChange={() => setFormat(f)} />
              <span>{FORMAT_NAMES[f]}</span>
            </label>
          ))}
        </fieldset>
        <EventPicker value={events} onChange={setEvents} idPrefix="new" />
        <FormSubmit busy={busy} error={error}>
          Add endpoint
        </FormSubmit>
      </form>
    </details>
  );
}
