import { useState } from 'preact/hooks';
import { RUN_STATUSES, type RunStatus } from '../../../worker/contract/statuses';
import { Alert } from '../components/alert';
import { TextAreaField } from '../components/fields';
import { FormSubmit } from '../components/form-submit';
import { LoadError, LoadStatus } from '../components/load-status';
import { api, data, errorMessage, type Schema } from '../lib/api';
import { canAct, type Session } from '../lib/auth';
import { EXAMPLE_GRAPH } from '../lib/example-graph';
import { formatAge } from '../lib/format';
import { isJsonObject, type ParsedInput, parseResumeInput } from '../lib/resume-input';
import { navigate, paths } from '../lib/router';
import { useAction } from '../lib/use-action';
import { useApi } from '../lib/use-api';
import { useNow } from '../lib/use-now';

export type GraphNode = Schema<'GraphDefinition'>['nodes'][number];

interface RunFilter {
  status?: RunStatus | undefined;
  graphId?: string | undefined;
  parentRunId?: string | undefined;
}

/** Graphs to run, and the runs so far: filtered by status and graph, with their reruns. */
export function RunsPage({ user }: { user: Session }) {
  const [graphs, reloadGraphs] = useApi('/v1/graphs', { params: { query: { limit: 50 } } });
  const [filter, setFilter] = useState<RunFilter>({});
  const [runs, reloadRuns] = useApi('/v1/runs', {
    params: {
      query: {
        limit: 20,
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.graphId ? { graph_id: filter.graphId } : {}),
        ...(filter.parentRunId ? { parent_run_id: filter.parentRunId } : {}),
      },
    },
  });
  const [error, setError] = useState<string | null>(null);
  const now = useNow();
  const names = new Map(graphs.status === 'ready' ? graphs.data.items.map((g) => [g.id, g.name]) : []);

  return (
    <section aria-labelledby="runs-heading">
      <div class="page-head">
        <h1 id="runs-heading">Runs</h1>
      </div>
      <h2>Graphs</h2>
      <LoadStatus loaded={graphs} />
      {graphs.status === 'ready' && graphs.data.items.length === 0 && (
        <div class="empty">
          <p>No graphs stored yet.</p>
          {canAct(user) && (
            <button
              type="button"
              onClick={async () => {
                try {
                  await data(api.POST('/v1/graphs', { body: EXAMPLE_GRAPH }));
                  reloadGraphs();
                } catch (err) {
                  setError(errorMessage(err));
                }
              }}
            >
              Add an example graph
            </button>
          )}
        </div>
      )}
      <Alert text={error} />
      {graphs.status === 'ready' && graphs.data.items.length > 0 && (
        <ul class="graphs">
          {graphs.data.items.map((g) => (
            <GraphItem key={g.id} graph={g} canRun={canAct(user)} />
          ))}
        </ul>
      )}
      <h2 id="recent-runs">Recent runs</h2>
      <form class="filters" aria-labelledby="recent-runs" onSubmit={(e) => e.preventDefault()}>
        <FilterSelect
          label="Status"
          value={filter.status}
          options={RUN_STATUSES.map((st) => ({ value: st, text: st.replace('_', ' ') }))}
          onPick={(status) => setFilter({ ...filter, status })}
        />
        <FilterSelect
          label="Graph"
          value={filter.graphId}
          options={
            graphs.status === 'ready'
              ? graphs.data.items.map((g) => ({ value: g.id, text: `${g.name} v${g.version}` }))
              : []
          }
          onPick={(graphId) => setFilter({ ...filter, graphId })}
        />
        {filter.parentRunId && (
          <span class="filter-chip" data-testid="parent-filter">
            Reruns of <span class="mono">{filter.parentRunId.slice(0, 8)}</span>
            <button
              type="button"
              class="link-button"
              aria-label="Show all runs, not only these reruns"
              onClick={() => setFilter({ ...filter, parentRunId: undefined })}
            >
              ✕ clear
            </button>
          </span>
        )}
      </form>
      {runs.status === 'error' && <LoadError failed={runs} onRetry={reloadRuns} />}
      {runs.status === 'ready' &&
        (runs.data.items.length === 0 ? (
          <p class="empty">
            {filter.status || filter.graphId || filter.parentRunId ? 'No runs match.' : 'No runs yet.'}
          </p>
        ) : (
          <ul class="rows runs-list">
            {runs.data.items.map((r) => (
              <li key={r.id} data-run={r.id}>
                <a href={paths.run(r.id)} class="row-link">
                  <span class="row-title">{names.get(r.graph_id) ?? r.graph_id.slice(0, 8)}</span>
                  <span class="run-status" data-status={r.status}>
                    {r.status.replace('_', ' ')}
                  </span>
                  <span class="row-age">{formatAge(r.created_at, now)}</span>
                </a>
                {(r.parent_run_id || r.reruns > 0) && (
                  <p class="run-relations">
                    {r.parent_run_id && (
                      <span data-testid="row-parent">
                        ↳ rerun of{' '}
                        <a href={paths.run(r.parent_run_id)} class="mono">
                          {r.parent_run_id.slice(0, 8)}
                        </a>
                        {r.from_node ? ` from ${r.from_node}` : ''}
                      </span>
                    )}
                    {r.reruns > 0 && (
                      <button
                        type="button"
                        class="link-button"
                        data-testid="row-reruns"
                        onClick={() => setFilter({ parentRunId: r.id })}
                      >
                        {r.reruns} rerun{r.reruns === 1 ? '' : 's'}
                      </button>
                    )}
                  </p>
                )}
              </li>
            ))}
          </ul>
        ))}
    </section>
  );
}

/** One filter of the runs: a value of a list, or any ("" in the select). */
function FilterSelect<T extends string>({
  label,
  value,
  options,
  onPick,
}: {
  label: string;
  value: T | undefined;
  options: { value: T; text: string }[];
  onPick: (value: T | undefined) => void;
}) {
  return (
    <label>
      {label}{' '}
      <select
        value={value ?? ''}
        onChange={(e) => {
          const v = e.currentTarget.value;
          onPick(v === '' ? undefined : (v as T));
        }}
      >
        <option value="">any</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.text}
          </option>
        ))}
      </select>
    </label>
  );
}

function GraphItem({ graph, canRun }: { graph: Schema<'Graph'>; canRun: boolean }) {
  const [input, setInput] = useState('{}');
  const { busy, error, setError, run } = useAction();
  const inputId = `input-${graph.id}`;
  return (
    <li class="panel graph" data-graph={graph.name}>
      <h3>
        {graph.name} <span class="hint">v{graph.version}</span>
      </h3>
      <p class="hint">{graph.schema.nodes.map((n) => `${n.id} (${n.type.replace('_', ' ')})`).join(' → ')}</p>
      {canRun && (
        <form
          class="stack"
          onSubmit={(e) => {
            e.preventDefault();
            const parsed: ParsedInput = parseResumeInput(input, 'json');
            if (!parsed.ok) return setError(parsed.error);
            const state = parsed.value;
            if (!isJsonObject(state)) return setError('The initial state must be a JSON object.');
            void run(async () => {
              const started = await data(
                api.POST('/v1/graphs/{id}/run', {
                  params: { path: { id: graph.id } },
                  body: { input: state },
                }),
              );
              navigate(paths.run(started.run_id));
            });
          }}
        >
          <TextAreaField
            id={inputId}
            label="Initial state (JSON object)"
            rows={2}
            class="mono"
            value={input}
            onValue={setInput}
          />
          <FormSubmit busy={busy} error={error}>
            Start a run
          </FormSubmit>
        </form>
      )}
    </li>
  );
}
