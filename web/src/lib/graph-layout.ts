import dagre from '@dagrejs/dagre';
import type { Schema } from './api';

// A graph laid out as a diagram, by dagre (layered, top to bottom): where each node's box sits
// and the path of each edge, so the run view can draw it as SVG. Pure: no DOM.

export type GraphDefinition = Schema<'GraphDefinition'>;
type GraphNode = GraphDefinition['nodes'][number];
type Condition = Extract<GraphDefinition['edges'][number], { branches: unknown }>['branches'][number]['when'];

export const END_ID = '__end__';
export const NODE_WIDTH = 184;
export const NODE_HEIGHT = 52;
const END_SIZE = 36;

export interface LaidOutNode {
  id: string;
  /** `end` for the run's end. */
  type: GraphNode['type'] | 'end';
  /** Top-left corner and size. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutEdge {
  /** `from->to`, as run views key the edges a run took; two edges with one ends add `#n`. */
  key: string;
  from: string;
  to: string;
  /** The branch's condition in words, `else` for a default; none on a plain edge. */
  label?: string;
  points: { x: number; y: number }[];
  /** Where the label goes. */
  labelAt?: { x: number; y: number };
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
}

export const edgeKey = (from: string, to: string) => `${from}->${to}`;

/** A branch condition in a few words. */
export function describeCondition(when: Condition): string {
  if ('field_equals' in when)
    return `${when.field_equals.field} = ${JSON.stringify(when.field_equals.value)}`;
  if ('field_exists' in when) {
    const f = when.field_exists;
    return `has ${typeof f === 'string' ? f : f.field}`;
  }
  return when.tool_error ? 'tool error' : 'no tool error';
}

const cut = (text: string, max = 24) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The edges of a graph as drawn: each branch and default of a branch edge is its own arrow. */
function arrowsOf(graph: GraphDefinition): { from: string; to: string; label?: string }[] {
  const arrows: { from: string; to: string; label?: string }[] = [];
  const withEdge = new Set<string>();
  for (const edge of graph.edges) {
    withEdge.add(edge.from);
    if ('branches' in edge) {
      for (const b of edge.branches)
        arrows.push({ from: edge.from, to: b.to, label: cut(describeCondition(b.when)) });
      arrows.push({ from: edge.from, to: edge.default, label: 'else' });
    } else {
      arrows.push({ from: edge.from, to: edge.to });
    }
  }
  // A node without an outgoing edge ends the run when it completes.
  for (const node of graph.nodes) if (!withEdge.has(node.id)) arrows.push({ from: node.id, to: END_ID });
  return arrows;
}

export function layoutGraph(graph: GraphDefinition): GraphLayout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 36, ranksep: 56, edgesep: 16, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const arrows = arrowsOf(graph);
  if (arrows.some((a) => a.to === END_ID)) g.setNode(END_ID, { width: END_SIZE, height: END_SIZE });
  const seen = new Map<string, number>();
  const named = arrows.map((a) => {
    const base = edgeKey(a.from, a.to);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const key = n === 1 ? base : `${base}#${n}`;
    g.setEdge(
      a.from,
      a.to,
      a.label ? { label: a.label, width: a.label.length * 6.5 + 8, height: 16, labelpos: 'c' } : {},
      key,
    );
    return { ...a, key };
  });
  dagre.layout(g);
  const nodes: LaidOutNode[] = g.nodes().map((id: string) => {
    const n = g.node(id) as { x: number; y: number; width: number; height: number };
    const type = id === END_ID ? 'end' : (graph.nodes.find((x) => x.id === id)?.type ?? 'transform');
    return { id, type, x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height };
  });
  const edges: LaidOutEdge[] = named.map((a) => {
    const e = g.edge({ v: a.from, w: a.to, name: a.key }) as {
      points?: { x: number; y: number }[];
      x?: number;
      y?: number;
    };
    return {
      key: a.key,
      from: a.from,
      to: a.to,
      points: e.points ?? [],
      ...(a.label ? { label: a.label } : {}),
      ...(a.label && e.x !== undefined && e.y !== undefined ? { labelAt: { x: e.x, y: e.y } } : {}),
    };
  });
  const size = g.graph() as { width?: number; height?: number };
  return { width: Math.ceil(size.width ?? 0), height: Math.ceil(size.height ?? 0), nodes, edges };
}

/** An SVG path through the points: straight segments with rounded turns would be nicer; lines are clear. */
export function pathOf(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}
