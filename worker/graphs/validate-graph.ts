import { z } from 'zod';
import { BUILTIN_TOOL_NAMES } from '../tools/registry';
import {
  branchEdgeSchema,
  type Edge,
  END,
  type Graph,
  type GraphNode,
  isBranchEdge,
  MAX_EDGES,
  MAX_NODES,
  NODE_ID_PATTERN,
  NODE_TYPES,
  type NodeType,
  nodeSchemasByType,
  plainEdgeSchema,
} from './graph-schema';

export interface GraphIssue {
  /** Where in the submitted JSON, e.g. `nodes[2].prompt` or `edges[0].branches[1].to`. */
  path: string;
  /** Human-readable and always names the node or edge concerned. */
  message: string;
}

export type GraphValidationResult = { ok: true; graph: Graph } | { ok: false; issues: GraphIssue[] };

export interface ValidateGraphOptions {
  /** Tool names a `tool` node may use; defaults to the built-in registry. */
  toolNames?: readonly string[];
}

const TOP_LEVEL_KEYS = new Set(['entry', 'nodes', 'edges']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

function zodIssues(base: string, label: string, error: z.ZodError): GraphIssue[] {
  return error.issues.map((issue) => {
    const field = formatPath('', issue.path).replace(/^\./, '');
    return {
      path: formatPath(base, issue.path),
      message: `${label}: ${field === '' ? '' : `${field}: `}${issue.message}`,
    };
  });
}

function nodeLabel(raw: unknown, index: number): string {
  return isRecord(raw) && typeof raw.id === 'string' && NODE_ID_PATTERN.test(raw.id)
    ? `node "${raw.id}"`
    : `nodes[${index}]`;
}

function edgeLabel(raw: unknown, index: number): string {
  if (!isRecord(raw) || typeof raw.from !== 'string') return `edges[${index}]`;
  const from = JSON.stringify(raw.from.slice(0, 64));
  return typeof raw.to === 'string'
    ? `edge ${from} → ${JSON.stringify(raw.to.slice(0, 64))}`
    : `edge from ${from}`;
}

function edgeTargets(edge: Edge): { path: string; to: string }[] {
  if (!isBranchEdge(edge)) return [{ path: '.to', to: edge.to }];
  return [
    ...edge.branches.map((b, i) => ({ path: `.branches[${i}].to`, to: b.to })),
    { path: '.default', to: edge.default },
  ];
}

/** Tarjan's algorithm; graphs are capped at 200 nodes, so recursion depth is bounded. */
function stronglyConnectedComponents(ids: readonly string[], successors: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of successors.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      for (;;) {
        const w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      components.push(component.reverse());
    }
  };
  for (const id of ids) if (!index.has(id)) visit(id);
  return components;
}

/**
 * Parses each item of a list on its own, so that every bad node or edge is named, not only the
 * first. `schemaFor` picks the item's schema, or answers the issue that stops it before one applies.
 */
function parseEach<T>(
  list: 'nodes' | 'edges',
  raws: unknown[],
  labelOf: (raw: unknown, index: number) => string,
  issues: GraphIssue[],
  schemaFor: (raw: Record<string, unknown>, at: string, label: string) => z.ZodType<T> | GraphIssue,
): T[] {
  const items: T[] = [];
  raws.forEach((raw, i) => {
    const at = `${list}[${i}]`;
    const label = labelOf(raw, i);
    if (!isRecord(raw)) {
      issues.push({ path: at, message: `${label}: must be an object` });
      return;
    }
    const schema = schemaFor(raw, at, label);
    if (!(schema instanceof z.ZodType)) {
      issues.push(schema);
      return;
    }
    const parsed = schema.safeParse(raw);
    if (parsed.success) items.push(parsed.data);
    else issues.push(...zodIssues(at, label, parsed.error));
  });
  return items;
}

/** Shape checks with messages that name each node and edge, before any cross-reference check. */
function parseShape(input: unknown): { graph?: Graph; issues: GraphIssue[] } {
  const issues: GraphIssue[] = [];
  if (!isRecord(input)) {
    return { issues: [{ path: '', message: 'graph must be an object {entry, nodes, edges}' }] };
  }
  for (const key of Object.keys(input)) {
    if (!TOP_LEVEL_KEYS.has(key)) issues.push({ path: key, message: `graph: unknown field "${key}"` });
  }
  const entry = input.entry;
  if (entry === undefined) {
    issues.push({ path: 'entry', message: 'graph has no entry: "entry" must name the first node' });
  } else if (typeof entry !== 'string' || !NODE_ID_PATTERN.test(entry)) {
    issues.push({ path: 'entry', message: 'graph entry must be a node id' });
  }
  const rawNodes = input.nodes;
  const rawEdges = input.edges ?? [];
  if (!Array.isArray(rawNodes) || rawNodes.length === 0) {
    issues.push({ path: 'nodes', message: 'graph needs a non-empty "nodes" array' });
  } else if (rawNodes.length > MAX_NODES) {
    issues.push({ path: 'nodes', message: `graph has ${rawNodes.length} nodes; the limit is ${MAX_NODES}` });
  }
  if (!Array.isArray(rawEdges)) {
    issues.push({ path: 'edges', message: 'graph "edges" must be an array' });
  } else if (rawEdges.length > MAX_EDGES) {
    issues.push({ path: 'edges', message: `graph has ${rawEdges.length} edges; the limit is ${MAX_EDGES}` });
  }
  if (
    issues.length > 0 ||
    !Array.isArray(rawNodes) ||
    !Array.isArray(rawEdges) ||
    typeof entry !== 'string'
  ) {
    return { issues };
  }

  const nodes = parseEach<GraphNode>('nodes', rawNodes, nodeLabel, issues, (raw, at, label) => {
    const type = raw.type;
    if (typeof type === 'string' && (NODE_TYPES as readonly string[]).includes(type)) {
      return nodeSchemasByType[type as NodeType];
    }
    const shown = type === undefined ? 'missing' : JSON.stringify(type);
    return {
      path: `${at}.type`,
      message: `${label}: unknown node type ${shown}; expected one of ${NODE_TYPES.join(', ')}`,
    };
  });
  // Pick the variant by its fields so a branch edge missing `default` says exactly that.
  const edges = parseEach<Edge>('edges', rawEdges, edgeLabel, issues, (raw) =>
    'branches' in raw || 'default' in raw ? branchEdgeSchema : plainEdgeSchema,
  );

  if (issues.length > 0) return { issues };
  return { graph: { entry, nodes, edges }, issues };
}

/**
 * Validates a graph for storage. Rules beyond shape:
 * - node ids are unique and `__end__` is reserved; `entry` names a node;
 * - every edge starts at a node and ends at a node or `__end__`;
 * - a node has at most one outgoing edge definition (use branches to fan out); a node with none
 *   ends the run when it completes;
 * - `tool` nodes name a known tool; `tool_error` conditions only appear on edges from tool nodes;
 * - every node is reachable from `entry`;
 * - every cycle contains a `human_input` node or a branch that leaves it, so no run loops forever
 *   without either waiting for a person or having a way out (executors still cap steps).
 */
export function validateGraph(input: unknown, options: ValidateGraphOptions = {}): GraphValidationResult {
  const { graph, issues } = parseShape(input);
  if (!graph) return { ok: false, issues };
  const toolNames = new Set<string>(options.toolNames ?? BUILTIN_TOOL_NAMES);

  const nodesById = new Map<string, GraphNode>();
  graph.nodes.forEach((node, i) => {
    if (node.id === END) {
      issues.push({
        path: `nodes[${i}].id`,
        message: `node "${END}": the id "${END}" is reserved for the end of a run`,
      });
      return;
    }
    if (nodesById.has(node.id)) {
      const first = graph.nodes.findIndex((n) => n.id === node.id);
      issues.push({
        path: `nodes[${i}].id`,
        message: `node "${node.id}": duplicate node id (also nodes[${first}])`,
      });
      return;
    }
    nodesById.set(node.id, node);
    if (node.type === 'tool' && !toolNames.has(node.tool)) {
      issues.push({
        path: `nodes[${i}].tool`,
        message: `node "${node.id}": unknown tool "${node.tool}"; available: ${[...toolNames].join(', ')}`,
      });
    }
  });

  if (!nodesById.has(graph.entry)) {
    issues.push({ path: 'entry', message: `graph entry "${graph.entry}" is not a node` });
  }

  const outgoing = new Map<string, number>();
  const successors = new Map<string, string[]>();
  graph.edges.forEach((edge, i) => {
    const label = edgeLabel(edge, i);
    const source = nodesById.get(edge.from);
    if (!source) {
      issues.push({
        path: `edges[${i}].from`,
        message: `${label}: source node "${edge.from}" does not exist`,
      });
    } else {
      const previous = outgoing.get(edge.from);
      if (previous !== undefined) {
        issues.push({
          path: `edges[${i}]`,
          message: `${label}: node "${edge.from}" already has an outgoing edge (edges[${previous}]); combine them into one edge with branches`,
        });
      } else {
        outgoing.set(edge.from, i);
      }
      if (isBranchEdge(edge) && source.type !== 'tool') {
        edge.branches.forEach((branch, b) => {
          if ('tool_error' in branch.when) {
            issues.push({
              path: `edges[${i}].branches[${b}].when`,
              message: `${label}: tool_error conditions only apply to edges from tool nodes, and "${edge.from}" is a ${source.type} node`,
            });
          }
        });
      }
    }
    const targets: string[] = [];
    for (const { path, to } of edgeTargets(edge)) {
      if (to === END) continue;
      if (!nodesById.has(to)) {
        issues.push({ path: `edges[${i}]${path}`, message: `${label}: target node "${to}" does not exist` });
      } else {
        targets.push(to);
      }
    }
    if (source && outgoing.get(edge.from) === i) successors.set(edge.from, targets);
  });

  if (nodesById.has(graph.entry)) {
    const reached = new Set<string>([graph.entry]);
    const queue = [graph.entry];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      for (const to of successors.get(next) ?? []) {
        if (!reached.has(to)) {
          reached.add(to);
          queue.push(to);
        }
      }
    }
    graph.nodes.forEach((node, i) => {
      if (node.id !== END && !reached.has(node.id) && nodesById.get(node.id) === node) {
        issues.push({
          path: `nodes[${i}]`,
          message: `node "${node.id}" is unreachable from entry "${graph.entry}"`,
        });
      }
    });
  }

  const edgeIndexByFrom = outgoing;
  for (const component of stronglyConnectedComponents([...nodesById.keys()], successors)) {
    const [first] = component;
    if (first === undefined) continue;
    const isCycle = component.length > 1 || (successors.get(first) ?? []).includes(first);
    if (!isCycle) continue;
    const members = new Set(component);
    const waitsForPerson = component.some((id) => nodesById.get(id)?.type === 'human_input');
    const hasExit = component.some((id) => {
      const edge = graph.edges[edgeIndexByFrom.get(id) ?? -1];
      return edge !== undefined && isBranchEdge(edge) && edgeTargets(edge).some((t) => !members.has(t.to));
    });
    if (!waitsForPerson && !hasExit) {
      const who =
        component.length === 1
          ? `node "${first}" loops to itself`
          : `nodes ${component.map((id) => `"${id}"`).join(', ')} form a cycle`;
      issues.push({
        path: `edges[${edgeIndexByFrom.get(first) ?? 0}]`,
        message: `${who} with no human_input node and no branch that leaves it, so a run would never end`,
      });
    }
  }

  return issues.length > 0 ? { ok: false, issues } : { ok: true, graph };
}
