import { z } from 'zod';
import { RETRY_ON } from '../contract/statuses';
import { jsonValue } from '../lib/json-value';

/**
 * Structural schema of a stored graph (DESIGN.md "Graphs and runs"). Cross-references (dangling
 * edges, reachability, cycles, tool names) are checked by `validateGraph`, which also turns zod
 * issues into messages that name the node or edge.
 *
 * Objects are strict: an unknown field is rejected, so a typo such as `outputKey` is reported
 * instead of silently ignored.
 */

export const END = '__end__';
export const MAX_NODES = 200;
export const MAX_EDGES = 400;
export const MAX_BRANCHES = 50;
const MAX_TEXT = 20_000;
const MAX_SET_KEYS = 100;

export const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Keys that would reach into prototypes if used as plain object keys. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** zod reports a missing field as a type error; say "is required" instead, which reads better. */
const expected = (what: string) => ({
  error: (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : `expected ${what}`),
});

export const nodeIdSchema = z
  .string(expected('a node id string'))
  .regex(NODE_ID_PATTERN, { error: `must match ${NODE_ID_PATTERN.source}` });

/** A top-level state key: where a node writes its output. */
export const stateKeySchema = z
  .string(expected('a state key string'))
  .regex(NODE_ID_PATTERN, { error: `must match ${NODE_ID_PATTERN.source}` })
  .refine((k) => !RESERVED_KEYS.has(k), { error: 'is a reserved name' });

/** A dotted path into state (`a.b.0` or `a.b[0]`), as in templates. */
export const fieldPathSchema = z
  .string(expected('a field path string'))
  .max(256)
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+|\[\d+\])*$/, {
    error: 'must be a dotted path like a.b.0 or a.b[0]',
  });

const targetSchema = z
  .string(expected('a node id or "__end__"'))
  .regex(NODE_ID_PATTERN, { error: 'must be a node id or "__end__"' });

const text = (what: string) =>
  z.string(expected(`${what} string`)).max(MAX_TEXT, { error: `is longer than ${MAX_TEXT} characters` });

/** The longest wait between two attempts a policy may ask for (and a `Retry-After` may impose). */
export const MAX_RETRY_INTERVAL_MS = 3_600_000;
export const MAX_ATTEMPTS = 10;
const MAX_BACKOFF_COEFFICIENT = 100;

const intIn = (what: string, min: number, max: number) =>
  z
    .number(expected(what))
    .int({ error: `must be a whole number from ${min} to ${max}` })
    .min(min, { error: `must be a whole number from ${min} to ${max}` })
    .max(max, { error: `must be a whole number from ${min} to ${max}` });

/**
 * How an `llm` or `tool` node retries a failed attempt (DESIGN.md "Runs, second stage"). The wait
 * before attempt n+1 is `initial_interval_ms × backoff_coefficient^(n-1)`, capped at
 * `max_interval_ms`; a provider's `Retry-After` lengthens it. Only `max_attempts` is required.
 */
export const retryPolicySchema = z
  .strictObject({
    max_attempts: intIn('a number of attempts', 1, MAX_ATTEMPTS),
    initial_interval_ms: intIn('milliseconds', 0, MAX_RETRY_INTERVAL_MS).default(1_000),
    backoff_coefficient: z
      .number(expected('a number'))
      .min(1, { error: `must be from 1 to ${MAX_BACKOFF_COEFFICIENT}` })
      .max(MAX_BACKOFF_COEFFICIENT, { error: `must be from 1 to ${MAX_BACKOFF_COEFFICIENT}` })
      .default(2),
    max_interval_ms: intIn('milliseconds', 0, MAX_RETRY_INTERVAL_MS).default(60_000),
    retry_on: z
      .array(
        z.enum(RETRY_ON, { error: `must be one of ${RETRY_ON.join(', ')}` }),
        expected(`an array of ${RETRY_ON.join(' | ')}`),
      )
      .min(1, { error: 'must name at least one kind of failure' })
      .refine((kinds) => new Set(kinds).size === kinds.length, { error: 'must not repeat a kind' })
      .default([...RETRY_ON]),
  })
  .refine((p) => p.max_interval_ms >= p.initial_interval_ms, {
    error: 'must be at least initial_interval_ms',
    path: ['max_interval_ms'],
  });

export const llmNodeSchema = z.strictObject({
  id: nodeIdSchema,
  type: z.literal('llm'),
  prompt: text('a prompt').min(1, { error: 'must not be empty' }),
  system: text('a system prompt').optional(),
  output_key: stateKeySchema,
  /** Stream the model's text as it comes (`node_delta` frames on the run stream). */
  stream: z.boolean(expected('true or false')).optional(),
  retry: retryPolicySchema.optional(),
});

export const toolNodeSchema = z.strictObject({
  id: nodeIdSchema,
  type: z.literal('tool'),
  tool: z.string(expected('a tool name string')).min(1).max(64),
  /** String values anywhere inside may contain `{{templates}}`. */
  args: z.record(z.string(), jsonValue(), expected('an object of JSON values')).default({}),
  output_key: stateKeySchema.optional(),
  retry: retryPolicySchema.optional(),
});

export const humanInputNodeSchema = z.strictObject({
  id: nodeIdSchema,
  type: z.literal('human_input'),
  prompt: text('a prompt'),
  output_key: stateKeySchema,
});

export const transformNodeSchema = z.strictObject({
  id: nodeIdSchema,
  type: z.literal('transform'),
  /** Shallow merge into state; string values are templates. */
  set: z
    .unknown()
    // z.record silently drops a `__proto__` key; a typo'd state key should be reported instead.
    .superRefine((value, ctx) => {
      if (typeof value !== 'object' || value === null) return;
      for (const key of RESERVED_KEYS) {
        if (Object.hasOwn(value, key)) ctx.addIssue({ code: 'custom', message: `key "${key}" is reserved` });
      }
    })
    .pipe(
      z
        .record(stateKeySchema, jsonValue(), expected('an object of JSON values'))
        .refine((s) => Object.keys(s).length <= MAX_SET_KEYS, {
          error: `has more than ${MAX_SET_KEYS} keys`,
        }),
    ),
});

export const NODE_TYPES = ['llm', 'tool', 'human_input', 'transform'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export const nodeSchemasByType = {
  llm: llmNodeSchema,
  tool: toolNodeSchema,
  human_input: humanInputNodeSchema,
  transform: transformNodeSchema,
} as const;

export const nodeSchema = z.discriminatedUnion('type', [
  llmNodeSchema,
  toolNodeSchema,
  humanInputNodeSchema,
  transformNodeSchema,
]);

/**
 * `field_exists` takes `{field: "a.b"}` like `field_equals`; the shorthand `"a.b"` is accepted and
 * normalised to the object form. A field "exists" when it resolves to a value other than
 * undefined or null.
 */
export const conditionSchema = z.union(
  [
    z.strictObject({
      field_equals: z.strictObject({ field: fieldPathSchema, value: jsonValue() }),
    }),
    z.strictObject({
      field_exists: z.union([
        fieldPathSchema.transform((field) => ({ field })),
        z.strictObject({ field: fieldPathSchema }),
      ]),
    }),
    z.strictObject({ tool_error: z.boolean() }),
  ],
  {
    error:
      'condition must be {field_equals: {field, value}}, {field_exists: {field}} (or {field_exists: "field"}) or {tool_error: boolean}',
  },
);

export const branchSchema = z.strictObject({
  when: conditionSchema,
  to: targetSchema,
});

export const plainEdgeSchema = z.strictObject({
  from: nodeIdSchema,
  to: targetSchema,
});

export const branchEdgeSchema = z.strictObject({
  from: nodeIdSchema,
  branches: z
    .array(branchSchema, expected('an array of {when, to}'))
    .min(1, { error: 'needs at least one branch' })
    .max(MAX_BRANCHES, { error: `has more than ${MAX_BRANCHES} branches` }),
  default: z
    .string({
      error: (iss) =>
        iss.input === undefined
          ? 'a branch edge needs a "default" target (a node id or "__end__")'
          : 'expected a node id or "__end__"',
    })
    .regex(NODE_ID_PATTERN, { error: 'must be a node id or "__end__"' }),
});

export const edgeSchema = z.union([plainEdgeSchema, branchEdgeSchema], {
  error: 'edge must be {from, to} or {from, branches: [{when, to}], default}',
});

export const graphSchema = z.strictObject({
  entry: nodeIdSchema,
  nodes: z.array(nodeSchema).min(1).max(MAX_NODES),
  edges: z.array(edgeSchema).max(MAX_EDGES),
});

export type Graph = z.output<typeof graphSchema>;
export type GraphNode = z.output<typeof nodeSchema>;
export type HumanInputNode = z.output<typeof humanInputNodeSchema>;
export type RetryPolicy = z.output<typeof retryPolicySchema>;
export type Edge = z.output<typeof edgeSchema>;
export type BranchEdge = z.output<typeof branchEdgeSchema>;
export type Condition = z.output<typeof conditionSchema>;

export function isBranchEdge(edge: Edge): edge is BranchEdge {
  return 'branches' in edge;
}
