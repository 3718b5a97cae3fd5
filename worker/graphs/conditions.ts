import { type BranchEdge, type Condition, type Edge, END, isBranchEdge } from './graph-schema';
import { getPath, type State } from './template';

export interface ConditionContext {
  state: State;
  /** True only when the node just executed was a tool and it failed. */
  toolError: boolean;
}

/** Structural equality over JSON values; key order does not matter. */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEquals(item, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = Object.keys(ra);
  if (keys.length !== Object.keys(rb).length) return false;
  return keys.every((k) => Object.hasOwn(rb, k) && jsonEquals(ra[k], rb[k]));
}

export function evaluateCondition(condition: Condition, ctx: ConditionContext): boolean {
  if ('field_equals' in condition) {
    return jsonEquals(getPath(ctx.state, condition.field_equals.field), condition.field_equals.value);
  }
  if ('field_exists' in condition) {
    const value = getPath(ctx.state, condition.field_exists.field);
    return value !== undefined && value !== null;
  }
  return condition.tool_error === ctx.toolError;
}

export interface EdgeChoice {
  to: string;
  /** Present for branch edges: true when a branch matched, false when the default was taken. */
  condition_result?: boolean;
}

/** A node without an outgoing edge ends the run. */
export function chooseNext(edge: Edge | undefined, ctx: ConditionContext): EdgeChoice {
  if (!edge) return { to: END };
  if (!isBranchEdge(edge)) return { to: edge.to };
  const match = edge.branches.find((branch) => evaluateCondition(branch.when, ctx));
  return match ? { to: match.to, condition_result: true } : { to: edge.default, condition_result: false };
}

/**
 * Where a failed tool goes: the first `{tool_error: true}` branch, regardless of other branches
 * that would match the state, because the failure is what the graph has to handle. `undefined`
 * when the graph has no such branch, which fails the run.
 */
export function chooseOnToolError(edge: Edge | undefined): EdgeChoice | undefined {
  if (!edge || !isBranchEdge(edge)) return undefined;
  const match = (edge as BranchEdge).branches.find(
    (b) => 'tool_error' in b.when && b.when.tool_error === true,
  );
  return match ? { to: match.to, condition_result: true } : undefined;
}
