import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import type { RunEvent } from '../../../worker/contract/events';
import { ConnectionBadge } from '../components/connection-badge';
import { api, authHeaders, data, errorMessage } from '../lib/api';
import { canAct, type Session } from '../lib/auth';
import { parseResumeInput, type ResumeMode } from '../lib/resume-input';
import { paths } from '../lib/router';
import { applyRunEvent, initialRunView, isTerminal, type NodeView, type RunView } from '../lib/run-view';
import { EventStream, type StreamStatus } from '../lib/sse-client';
import { useApi } from '../lib/use-api';
import type { GraphNode } from './runs-page';

const RUN_EVENT_TYPES = new Set<string>([
  'run_started',
  'node_started',
  'node_completed',
  'edge_traversed',
  'graph_paused',
  'run_resumed',
  'graph_completed',
  'error',
]);

type Action = { kind: 'event'; event: RunEvent } | { kind: 'reset' };

function reducer(view: RunView, action: Action): RunView {
  return action.kind === 'reset' ? initialRunView() : applyRunEvent(view, action.event);
}

/** One run, live: its nodes light up as they run, a form when it pauses, cancel, the end state. */
export function RunPage({ id, user }: { id: string; user: Session }) {
  const [run] = useApi('/v1/runs/{id}/status', { params: { path: { id } } });
  const graphId = run.status === 'ready' ? run.data.graph_id : null;
  const [graph] = useApi(graphId ? '/v1/graphs/{id}' : null, { params: { path: { id: graphId ?? '' } } });
  const [view, dispatch] = useReducer(reducer, undefined, initialRunView);
  const [stream, setStream] = useState<StreamStatus>({ state: 'connecting', attempt: 0 });
  const streamRef = useRef<EventStream | null>(null);

  useEffect(() => {
    dispatch({ kind: 'reset' });
    // From the start (Last-Event-ID 0), so a run opened late shows everything; after a break the
    // stream resumes from the last event it applied.
    const s = new EventStream({
      url: `/v1/runs/${encodeURIComponent(id)}/stream`,
      headers: authHeaders,
      lastEventId: '0',
      onEvent: (msg) => {
        if (msg.type === 'reset') {
          // The log no longer holds what we asked for: the stream starts over from what it has.
          dispatch({ kind: 'reset' });
          return undefined;
        }
        if (!RUN_EVENT_TYPES.has(msg.type)) return undefined;
        const event = { type: msg.type, data: msg.data } as RunEvent;
        dispatch({ kind: 'event', event });
        return event.type === 'graph_completed' || event.type === 'error' ? 'stop' : undefined;
      },
      onStatus: setStream,
    });
    streamRef.current = s;
    const online = () => s.reconnectNow();
    window.addEventListener('online', online);
    void s.start();
    return () => {
      window.removeEventListener('online', online);
      s.stop();
    };
  }, [id]);

  if (run.status === 'error') {
    return (
      <section>
        <h1>Run</h1>
        <p class="error" role="alert">
          {run.httpStatus === 404 ? 'This run does not exist in your account.' : run.error}
        </p>
        <a href={paths.runs()}>Back to runs</a>
      </section>
    );
  }
  const nodes = graph.status === 'ready' ? graph.data.schema.nodes : [];
  const listed = new Set(nodes.map((n) => n.id));
  const extra = Object.keys(view.nodes).filter((n) => !listed.has(n));
  const ended = isTerminal(view.phase);
  return (
    <article aria-labelledby="run-heading" class="run" data-phase={view.phase}>
      <p class="crumbs">
        <a href={paths.runs()}>← Runs</a>
      </p>
      <div class="page-head">
        <h1 id="run-heading">{graph.status === 'ready' ? graph.data.name : 'Run'}</h1>
        <span
          class="run-status"
          data-status={view.phase}
          data-testid="run-phase"
          role="status"
          aria-live="polite"
        >
          {PHASE_LABEL[view.phase]}
        </span>
        {!ended && <ConnectionBadge status={stream} onRetry={() => streamRef.current?.reconnectNow()} />}
      </div>
      <p class="hint mono">run {id}</p>
      <ol class="nodes" aria-label="Nodes">
        {nodes.map((n) => (
          <NodeRow key={n.id} node={n} view={view.nodes[n.id]} />
        ))}
        {extra.map((nid) => (
          <NodeRow key={nid} node={{ id: nid, type: 'transform' }} view={view.nodes[nid]} />
        ))}
      </ol>
      {view.pause && canAct(user) && (
        <ResumeForm runId={id} nodeId={view.pause.nodeId} prompt={view.pause.prompt} />
      )}
      {!ended && canAct(user) && <CancelButton runId={id} />}
      {view.phase === 'completed' && (
        <section class="panel final" aria-labelledby="final-heading">
          <h2 id="final-heading">Final state</h2>
          <p class="hint">Completed in {view.durationMs ?? 0} ms.</p>
          <pre class="mono" data-testid="final-state">
            {JSON.stringify(view.finalState, null, 2)}
          </pre>
        </section>
      )}
      {view.error && (
        <section class="panel final" aria-labelledby="end-heading">
          <h2 id="end-heading">{view.phase === 'cancelled' ? 'Cancelled' : 'Failed'}</h2>
          <p class={view.phase === 'cancelled' ? '' : 'error'}>
            <code>{view.error.code}</code>: {view.error.message}
          </p>
          <pre class="mono">{JSON.stringify(view.state, null, 2)}</pre>
        </section>
      )}
      <details class="panel">
        <summary>Event log ({view.log.length})</summary>
        <ol class="log mono">
          {view.log.map((l, i) => (
            <li key={i}>{l.summary}</li>
          ))}
        </ol>
      </details>
    </article>
  );
}

const PHASE_LABEL: Record<RunView['phase'], string> = {
  connecting: 'Connecting…',
  running: 'Running',
  paused: 'Waiting for input',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

const NODE_LABEL: Record<NodeView['status'], string> = {
  waiting: 'not run',
  running: 'running',
  paused: 'waiting for input',
  done: 'done',
  failed: 'failed',
};

function NodeRow({ node, view }: { node: Pick<GraphNode, 'id' | 'type'>; view: NodeView | undefined }) {
  const status = view?.status ?? 'waiting';
  return (
    <li class="node" data-node={node.id} data-status={status}>
      <div class="node-head">
        <span class="node-dot" aria-hidden="true" />
        <span class="node-id">{node.id}</span>
        <span class="node-type">{node.type.replace('_', ' ')}</span>
        <span class="node-status">{NODE_LABEL[status]}</span>
        {view?.durationMs !== undefined && <span class="hint">{view.durationMs} ms</span>}
        {view?.next && <span class="hint">→ {view.next}</span>}
      </div>
      {view?.changed && Object.keys(view.changed).length > 0 && (
        <dl class="node-changed" aria-label={`State set by ${node.id}`}>
          {Object.entries(view.changed).map(([k, value]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd class="mono">{preview(value)}</dd>
            </div>
          ))}
        </dl>
      )}
      {view?.toolError && <p class="error">tool error: {view.toolError}</p>}
      {view?.state && (
        <details class="node-state">
          <summary class="state-toggle">Whole state after {node.id}</summary>
          <pre class="mono">{JSON.stringify(view.state, null, 2)}</pre>
        </details>
      )}
    </li>
  );
}

/** One line of JSON, cut short: enough to see a value at a glance. */
function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

function ResumeForm({ runId, nodeId, prompt }: { runId: string; nodeId: string; prompt: string }) {
  const [mode, setMode] = useState<ResumeMode>('text');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  useEffect(() => inputRef.current?.focus(), [nodeId]);
  return (
    <section class="panel resume" aria-labelledby="resume-heading">
      <h2 id="resume-heading">Input needed at {nodeId}</h2>
      <form
        class="stack"
        onSubmit={async (e) => {
          e.preventDefault();
          const parsed = parseResumeInput(value, mode);
          if (!parsed.ok) return setError(parsed.error);
          setBusy(true);
          setError(null);
          try {
            await data(
              api.POST('/v1/runs/{id}/resume', {
                params: { path: { id: runId } },
                body: { input: parsed.value },
              }),
            );
            setValue('');
          } catch (err) {
            setError(errorMessage(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="resume-input">{prompt || 'Your answer'}</label>
        <textarea
          id="resume-input"
          ref={inputRef}
          rows={mode === 'json' ? 4 : 2}
          class={mode === 'json' ? 'mono' : ''}
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'resume-error' : undefined}
        />
        <fieldset class="segmented">
          <legend>Send as</legend>
          {(['text', 'json'] as const).map((m) => (
            <label key={m}>
              <input
                type="radio"
                name="resume-mode"
                value={m}
                checked={mode === m}
                onChange={() => setMode(m)}
              />
              <span>{m === 'text' ? 'Text' : 'JSON'}</span>
            </label>
          ))}
        </fieldset>
        {error && (
          <p id="resume-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Resume
        </button>
      </form>
    </section>
  );
}

function CancelButton({ runId }: { runId: string }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div class="actions">
      <button
        type="button"
        class="danger"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await data(api.POST('/v1/runs/{id}/cancel', { params: { path: { id: runId } } }));
          } catch (err) {
            setError(errorMessage(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        Cancel run
      </button>
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
