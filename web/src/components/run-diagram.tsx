import { useMemo } from 'preact/hooks';
import {
  END_ID,
  edgeKey,
  type GraphDefinition,
  type GraphLayout,
  layoutGraph,
  pathOf,
} from '../lib/graph-layout';
import { isTerminal, type NodeStatus, type NodeView, type RunView } from '../lib/run-view';

/** Words and a glyph for each state, so status never rests on colour alone. */
export const NODE_STATUS_LABEL: Record<NodeStatus, string> = {
  waiting: 'not run',
  running: 'running',
  retrying: 'waiting to retry',
  paused: 'waiting for input',
  done: 'done',
  failed: 'failed',
};
const NODE_STATUS_ICON: Record<NodeStatus, string> = {
  waiting: '○',
  running: '▶',
  retrying: '↻',
  paused: '‖',
  done: '✓',
  failed: '✕',
};

/** "retry 2 of 3 in 4 s" (or "… now" once due). */
export function retryLabel(retry: NonNullable<NodeView['retry']>, now: number): string {
  const seconds = Math.max(0, Math.ceil((retry.nextAt - now) / 1000));
  return `retry ${retry.attempt + 1} of ${retry.maxAttempts} ${seconds > 0 ? `in ${seconds} s` : 'now'}`;
}

/** Shorter words for the box (the button's label and the side panel use the longer ones). */
const SHORT_STATUS: Record<NodeStatus, string> = { ...NODE_STATUS_LABEL, paused: 'needs input' };

function statusLine(view: NodeView | undefined, now: number, short = false): string {
  const status = view?.status ?? 'waiting';
  if (status === 'retrying' && view?.retry) return retryLabel(view.retry, now);
  if (status === 'running' && (view?.attempt ?? 1) > 1) return `running, attempt ${view?.attempt}`;
  return (short ? SHORT_STATUS : NODE_STATUS_LABEL)[status];
}

const TYPE_LABEL: Record<string, string> = {
  llm: 'LLM',
  tool: 'tool',
  human_input: 'human input',
  transform: 'transform',
};

/**
 * The run's graph as a diagram (laid out by dagre, drawn as SVG): the edges the run took are lit,
 * the node running now pulses (not under reduced motion), a node waiting to retry counts down,
 * and each node is a button that selects it.
 */
export function RunDiagram({
  graph,
  view,
  selected,
  onSelect,
  now,
}: {
  graph: GraphDefinition;
  view: RunView;
  selected: string | null;
  onSelect: (nodeId: string) => void;
  now: number;
}) {
  const layout: GraphLayout = useMemo(() => layoutGraph(graph), [graph]);
  const taken = new Set(view.taken);
  const ended = isTerminal(view.phase);
  const reachedEnd = view.phase === 'completed';
  return (
    // biome-ignore lint/a11y/useSemanticElements: an SVG drawing cannot be a fieldset; `group` names the set of node buttons
    <svg
      class="diagram"
      viewBox={`0 0 ${layout.width} ${layout.height}`}
      width={layout.width}
      height={layout.height}
      role="group"
      aria-label="Graph diagram: select a node to see its state"
      data-testid="run-diagram"
    >
      <defs>
        {[false, true].map((lit) => (
          <marker
            key={lit ? 'lit' : 'plain'}
            id={lit ? 'diagram-arrow-lit' : 'diagram-arrow'}
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class={lit ? 'arrow-head lit' : 'arrow-head'} />
          </marker>
        ))}
      </defs>
      {layout.edges.map((e) => {
        const lit = taken.has(edgeKey(e.from, e.to));
        return (
          <g key={e.key} class="diagram-edge" data-edge={e.key} data-taken={lit ? 'true' : 'false'}>
            <path d={pathOf(e.points)} marker-end={lit ? 'url(#diagram-arrow-lit)' : 'url(#diagram-arrow)'} />
            {e.label && e.labelAt && (
              <text
                x={e.labelAt.x}
                y={e.labelAt.y}
                class="edge-label"
                text-anchor="middle"
                dominant-baseline="middle"
              >
                {e.label}
              </text>
            )}
          </g>
        );
      })}
      {layout.nodes.map((n) => {
        if (n.id === END_ID) {
          return (
            <g
              key={n.id}
              class="diagram-end"
              data-reached={reachedEnd ? 'true' : 'false'}
              transform={`translate(${n.x},${n.y})`}
            >
              <title>{reachedEnd ? 'End (reached)' : 'End'}</title>
              <circle cx={n.width / 2} cy={n.height / 2} r={n.width / 2 - 2} />
              <text x={n.width / 2} y={n.height / 2} text-anchor="middle" dominant-baseline="middle">
                end
              </text>
            </g>
          );
        }
        const nv = view.nodes[n.id];
        const status = nv?.status ?? 'waiting';
        const current = !ended && view.current === n.id && (status === 'running' || status === 'paused');
        const line = statusLine(nv, now);
        const shortLine = statusLine(nv, now, true);
        const select = () => onSelect(n.id);
        return (
          // biome-ignore lint/a11y/useSemanticElements: an HTML button cannot sit inside SVG; the group is a button with keyboard handling
          <g
            key={n.id}
            class="diagram-node"
            data-node={n.id}
            data-status={status}
            data-current={current ? 'true' : 'false'}
            data-selected={selected === n.id ? 'true' : 'false'}
            transform={`translate(${n.x},${n.y})`}
            role="button"
            tabindex={0}
            aria-pressed={selected === n.id}
            aria-label={`${n.id}, ${TYPE_LABEL[n.type] ?? n.type} node, ${line}`}
            onClick={select}
            onKeyDown={(ev) => {
              if (ev.key === 'Enter' || ev.key === ' ') {
                ev.preventDefault();
                select();
              }
            }}
          >
            <rect width={n.width} height={n.height} rx="8" />
            <text x="12" y="21" class="dn-id">
              {n.id}
            </text>
            <text x="12" y="39" class="dn-meta" data-testid={`node-line-${n.id}`}>
              {`${TYPE_LABEL[n.type] ?? n.type} · ${shortLine}`}
            </text>
            {/* The button's aria-label says the state in words; the glyph repeats it for the eye. */}
            <text x={n.width - 12} y="21" class="dn-icon" text-anchor="end">
              {NODE_STATUS_ICON[status]}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
