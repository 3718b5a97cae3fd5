import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import type { RunEvent } from '../../../worker/contract/events';
import { Alert } from '../components/alert';
import { ConnectionBadge } from '../components/connection-badge';
import { FormSubmit } from '../components/form-submit';
import { LoadError } from '../components/load-status';
import { NODE_STATUS_LABEL, RunDiagram, retryLabel } from '../components/run-diagram';
import { api, authHeaders, data, type Schema } from '../lib/api';
import { canAct, type Session } from '../lib/auth';
import { isJsonObject, parseResumeInput, type ResumeMode } from '../lib/resume-input';
import { navigate, paths } from '../lib/router';
import { applyRunEvent, initialRunView, isTerminal, type NodeView, type RunView } from '../lib/run-view';
import { EventStream, type StreamStatus } from '../lib/sse-client';
import { useAction } from '../lib/use-action';
import { useApi } from '../lib/use-api';
import { useNow } from '../lib/use-now';
import type { GraphNode } from './runs-page';

const RUN_EVENT_TYPES = new Set<RunEvent['type']>([
  'run_started',
  'node_started',
  'node_completed',
  'node_retrying',
  'node_delta',
  'edge_traversed',
  'graph_paused',
  'run_resumed',
  'graph_completed',
  'error',
]);
const isRunEventType = (type: string): type is RunEvent['type'] =>
  RUN_EVENT_TYPES.has(type as RunEvent['type']);

/** Who may resume, cancel or rerun a run: its starter or an admin (the API says the same). */
export const mayActOnRun = (user: Session, run: { started_by: string }) =>
  canAct(user) && (user.role === 'admin' || run.started_by === user.userId);

type Action = { kind: 'event'; event: RunEvent } | { kind: 'reset' };

function reducer(view: RunView, action: Action): RunView {
  return action.kind === 'reset' ? initialRunView() : applyRunEvent(view, action.event);
}

/** One run, live: its nodes light up as they run, a form when it pauses, cancel, the end state. */
export function RunPage({ id, user }: { id: string; user: Session }) {
  const [run, reloadRun] = useApi('/v1/runs/{id}/status', { params: { path: { id } } });
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
        if (!isRunEventType(msg.type)) return undefined;
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

  const ended = isTerminal(view.phase);
  const [selected, setSelected] = useState<string | null>(null);
  const retrying = Object.values(view.nodes).some((n) => n.status === 'retrying');
  const now = useNow(retrying ? 1_000 : 60_000);
  const [checkpoints] = useApi(ended ? '/v1/runs/{id}/checkpoints' : null, { params: { path: { id } } });
  const reruns = run.status === 'ready' ? run.data.reruns : 0;
  const [children] = useApi(reruns > 0 ? '/v1/runs' : null, {
    params: { query: { parent_run_id: id, limit: 20 } },
  });

  if (run.status === 'error') {
    return (
      <section>
        <h1>Run</h1>
        <LoadError failed={run} notFound="This run does not exist in your account." onRetry={reloadRun} />
        <a href={paths.runs()}>Back to runs</a>
      </section>
    );
  }
  const definition = graph.status === 'ready' ? graph.data.schema : null;
  const nodes = definition?.nodes ?? [];
  const listed = new Set(nodes.map((n) => n.id));
  const extra = Object.keys(view.nodes).filter((n) => !listed.has(n));
  const record = run.status === 'ready' ? run.data : null;
  const mayAct = record !== null && mayActOnRun(user, record);
  const parent =
    view.parent ??
    (record?.parent_run_id ? { runId: record.parent_run_id, fromNode: record.from_node } : null);
  const reached = new Map<string, Record<string, unknown>>();
  if (checkpoints.status === 'ready') {
    for (const c of checkpoints.data.items) reached.set(c.node_id, c.state as Record<string, unknown>);
  }
  for (const [nid, nv] of Object.entries(view.nodes))
    if (nv.stateBefore && !reached.has(nid)) reached.set(nid, nv.stateBefore);
  const focus = selected ?? view.current ?? view.streamingNode ?? view.pause?.nodeId ?? null;
  const focusNode = nodes.find((n) => n.id === focus);
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
      {(parent || (children.status === 'ready' && children.data.items.length > 0)) && (
        <nav class="run-family" aria-label="Related runs">
          {parent && (
            <p data-testid="run-parent">
              Rerun of{' '}
              <a href={paths.run(parent.runId)} class="mono">
                {parent.runId.slice(0, 8)}
              </a>
              {parent.fromNode ? ` from ${parent.fromNode}` : ''}
            </p>
          )}
          {children.status === 'ready' && children.data.items.length > 0 && (
            <p data-testid="run-children">
              Reruns:{' '}
              {children.data.items.map((c, i) => (
                <span key={c.id}>
                  {i > 0 && ', '}
                  <a href={paths.run(c.id)} class="mono">
                    {c.id.slice(0, 8)}
                  </a>{' '}
                  <span class="hint">
                    (from {c.from_node ?? 'start'}, {c.status.replace('_', ' ')})
                  </span>
                </span>
              ))}
            </p>
          )}
        </nav>
      )}
      <div class="run-layout">
        <section class="panel diagram-panel" aria-labelledby="diagram-heading">
          <h2 id="diagram-heading">Graph</h2>
          {definition ? (
            <div class="diagram-scroll">
              <RunDiagram graph={definition} view={view} selected={focus} onSelect={setSelected} now={now} />
            </div>
          ) : (
            <p aria-busy="true">Loading the graph…</p>
          )}
          <p class="hint legend">
            ✓ done · ▶ running · ↻ waiting to retry · ‖ waiting for input · ✕ failed · ○ not run. Lit arrows
            are the path this run took.
          </p>
        </section>
        <aside class="side-panel" aria-label="Node details">
          {view.streamingNode && (
            <LiveOutput
              nodeId={view.streamingNode}
              node={view.nodes[view.streamingNode]}
              outputKey={outputKeyOf(nodes.find((n) => n.id === view.streamingNode))}
            />
          )}
          {focus ? (
            <NodeDetails
              key={focus}
              runId={id}
              nodeId={focus}
              type={focusNode?.type ?? 'transform'}
              view={view.nodes[focus]}
              stateBefore={reached.get(focus)}
              now={now}
              canRerun={ended && mayAct && reached.has(focus)}
            />
          ) : (
            <p class="hint">Select a node in the diagram to see the state before and after it.</p>
          )}
        </aside>
      </div>
      {view.pause && mayAct && (
        <ResumeForm runId={id} nodeId={view.pause.nodeId} prompt={view.pause.prompt} />
      )}
      {!ended && mayAct && <CancelButton runId={id} />}
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
      <details class="panel steps">
        <summary>
          Steps ({Object.keys(view.nodes).length} of {nodes.length} nodes run)
        </summary>
        <ol class="nodes" aria-label="Nodes">
          {nodes.map((n) => (
            <NodeRow key={n.id} node={n} view={view.nodes[n.id]} />
          ))}
          {extra.map((nid) => (
            <NodeRow key={nid} node={{ id: nid, type: 'transform' }} view={view.nodes[nid]} />
          ))}
        </ol>
      </details>
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

const outputKeyOf = (node: GraphNode | undefined) =>
  node && (node.type === 'llm' || node.type === 'tool' || node.type === 'human_input')
    ? node.output_key
    : undefined;

/** An llm node's text as it streams, then its whole output once it completed. */
function LiveOutput({
  nodeId,
  node,
  outputKey,
}: {
  nodeId: string;
  node: NodeView | undefined;
  outputKey: string | undefined;
}) {
  const done = node?.status === 'done';
  const final = done && outputKey ? node?.state?.[outputKey] : undefined;
  const text = typeof final === 'string' ? final : (node?.streamed ?? '');
  return (
    <section class="panel live-output" aria-labelledby="live-output-heading">
      <h2 id="live-output-heading">
        Output of {nodeId}{' '}
        <span class="hint">{done ? '(complete)' : node?.status === 'running' ? '(streaming…)' : ''}</span>
      </h2>
      <p class="streamed" data-testid="streamed-text" data-node={nodeId} role="log" aria-live="off">
        {text}
        {!done && node?.status === 'running' && <span class="caret" aria-hidden="true" />}
      </p>
      {node?.usage && (
        <p class="hint">
          {node.usage.prompt_tokens} prompt + {node.usage.completion_tokens} completion tokens
          {node.usage.estimated ? ' (estimated)' : ''}
        </p>
      )}
    </section>
  );
}

function NodeDetails({
  runId,
  nodeId,
  type,
  view,
  stateBefore,
  now,
  canRerun,
}: {
  runId: string;
  nodeId: string;
  type: string;
  view: NodeView | undefined;
  stateBefore: Record<string, unknown> | undefined;
  now: number;
  canRerun: boolean;
}) {
  const status = view?.status ?? 'waiting';
  const [rerunning, setRerunning] = useState(false);
  return (
    <section
      class="panel node-details"
      data-testid="node-details"
      data-node={nodeId}
      aria-labelledby="node-details-heading"
    >
      <h2 id="node-details-heading">
        {nodeId} <span class="hint">{type.replace('_', ' ')}</span>
      </h2>
      <p>
        <span class="node-badge" data-status={status}>
          {NODE_STATUS_LABEL[status]}
        </span>
        {view?.durationMs !== undefined && <span class="hint"> · {view.durationMs} ms</span>}
        {(view?.attempt ?? 1) > 1 && <span class="hint"> · attempt {view?.attempt}</span>}
      </p>
      {view?.retry && status === 'retrying' && (
        <p class="retry-note" data-testid="retry-countdown" role="status">
          Attempt {view.retry.attempt} failed: {view.retry.error}. {retryLabel(view.retry, now)}.
        </p>
      )}
      {view?.toolError && <p class="error">tool error: {view.toolError}</p>}
      <h3>State before</h3>
      {stateBefore ? (
        <pre class="mono state-json" data-testid="state-before">
          {JSON.stringify(stateBefore, null, 2)}
        </pre>
      ) : (
        <p class="hint">The run has not reached this node.</p>
      )}
      {view?.state && (
        <>
          <h3>State after</h3>
          <pre class="mono state-json" data-testid="state-after">
            {JSON.stringify(view.state, null, 2)}
          </pre>
        </>
      )}
      {canRerun &&
        (rerunning ? (
          <RerunForm
            runId={runId}
            nodeId={nodeId}
            base={stateBefore ?? {}}
            onCancel={() => setRerunning(false)}
          />
        ) : (
          <button type="button" onClick={() => setRerunning(true)}>
            Rerun from here…
          </button>
        ))}
    </section>
  );
}

/** "Rerun from here": a JSON object shallow-merged over the state before the node. */
function RerunForm({
  runId,
  nodeId,
  base,
  onCancel,
}: {
  runId: string;
  nodeId: string;
  base: Record<string, unknown>;
  onCancel: () => void;
}) {
  const [patch, setPatch] = useState('{}');
  const { busy, error, setError, run } = useAction();
  const parsed = parseResumeInput(patch, 'json');
  const preview =
    parsed.ok && isJsonObject(parsed.value) ? JSON.stringify({ ...base, ...parsed.value }, null, 2) : null;
  return (
    <form
      class="stack rerun-form"
      aria-label={`Rerun from ${nodeId}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (!parsed.ok) return setError(parsed.error);
        if (!isJsonObject(parsed.value))
          return setError('The patch must be a JSON object, e.g. {"product": "vpn"}.');
        const statePatch = parsed.value as Schema<'Rerun'>['state_patch'];
        void run(async () => {
          const started = await data(
            api.POST('/v1/runs/{id}/rerun', {
              params: { path: { id: runId } },
              body: { from_node: nodeId, state_patch: statePatch },
            }),
          );
          navigate(paths.run(started.run_id));
        });
      }}
    >
      <label for="rerun-patch">State patch (a JSON object, merged over the state before {nodeId})</label>
      <textarea
        id="rerun-patch"
        class="mono"
        rows={5}
        spellcheck={false}
        value={patch}
        onInput={(e) => setPatch(e.currentTarget.value)}
        aria-invalid={parsed.ok ? undefined : true}
        aria-describedby="rerun-patch-status"
      />
      <p id="rerun-patch-status" class={parsed.ok ? 'hint' : 'error'} role={error ? 'alert' : undefined}>
        {error ??
          (parsed.ok
            ? isJsonObject(parsed.value)
              ? 'Valid JSON object.'
              : 'Must be a JSON object.'
            : parsed.error)}
      </p>
      {preview && (
        <details>
          <summary>The state the rerun starts with</summary>
          <pre class="mono state-json" data-testid="rerun-preview">
            {preview}
          </pre>
        </details>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Rerun from {nodeId}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
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

function NodeRow({ node, view }: { node: Pick<GraphNode, 'id' | 'type'>; view: NodeView | undefined }) {
  const status = view?.status ?? 'waiting';
  return (
    <li class="node" data-node={node.id} data-status={status}>
      <div class="node-head">
        <span class="node-dot" aria-hidden="true" />
        <span class="node-id">{node.id}</span>
        <span class="node-type">{node.type.replace('_', ' ')}</span>
        <span class="node-status">{NODE_STATUS_LABEL[status]}</span>
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
  const { busy, error, setError, run } = useAction();
  const inputRef = useRef<HTMLTextAreaElement>(null);
  useEffect(() => inputRef.current?.focus(), [nodeId]);
  return (
    <section class="panel resume" aria-labelledby="resume-heading">
      <h2 id="resume-heading">Input needed at {nodeId}</h2>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          const parsed = parseResumeInput(value, mode);
          if (!parsed.ok) return setError(parsed.error);
          const input = parsed.value;
          void run(async () => {
            await data(
              api.POST('/v1/runs/{id}/resume', {
                params: { path: { id: runId } },
                body: { input },
              }),
            );
            setValue('');
          });
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
        <FormSubmit busy={busy} error={error} errorId="resume-error">
          Resume
        </FormSubmit>
      </form>
    </section>
  );
}

function CancelButton({ runId }: { runId: string }) {
  const { busy, error, run } = useAction();
  return (
    <div class="actions">
      <button
        type="button"
        class="danger"
        disabled={busy}
        onClick={() => run(() => data(api.POST('/v1/runs/{id}/cancel', { params: { path: { id: runId } } })))}
      >
        Cancel run
      </button>
      <Alert inline text={error} />
    </div>
  );
}
