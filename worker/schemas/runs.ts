import { z } from '@hono/zod-openapi';
import { RUN_ERROR_CODES, RUN_STATUSES } from '../contract/statuses';
import { NODE_ID_PATTERN } from '../graphs/graph-schema';
import { jsonValue } from '../lib/json-value';
import { pageQuery } from '../lib/pagination';
import type { runJson } from '../runs/run-view';
import { idempotencyHeaders, Timestamp, Uuid, uuidParam } from './common';

// Runs as the API takes and gives them.

export const StartRunBody = z
  .strictObject({
    input: z.record(z.string(), jsonValue()).default({}).openapi({ description: 'The run’s initial state' }),
  })
  .openapi('StartRun');

export const ResumeRunBody = z
  .strictObject({
    // Any JSON, null included; stored under the paused node's output_key.
    input: jsonValue({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be JSON') }).openapi({
      description: 'Any JSON, null included; stored under the paused node’s `output_key`',
    }),
  })
  .openapi('ResumeRun');

export const StartRunHeaders = idempotencyHeaders(
  'For 24 hours the same key and body answer the same run (`Idempotent-Replayed: true`); the same key with another body is 422 `idempotency_key_reused`',
);

export const RerunBody = z
  .strictObject({
    from_node: z.string().regex(NODE_ID_PATTERN, 'must be a node id').optional().openapi({
      description: 'Default: the node a failed run stopped at, else the node the run started at',
    }),
    state_patch: z
      .record(z.string(), jsonValue())
      .optional()
      .openapi({ description: 'Shallow-merged over the state the run had before `from_node` ran' }),
  })
  .openapi('Rerun');

export const RunListQuery = pageQuery.extend({
  status: z.enum(RUN_STATUSES).optional(),
  graph_id: uuidParam.optional(),
  parent_run_id: uuidParam.optional().openapi({ description: 'Only the reruns of this run' }),
});

const runStatus = z.enum(RUN_STATUSES);

export const RunSchema = z
  .object({
    id: Uuid,
    graph_id: Uuid,
    graph_version: z.int(),
    started_by: Uuid,
    status: runStatus,
    input: jsonValue().openapi({ description: 'The initial state' }),
    state: jsonValue().openapi({ description: 'The state after the last finished node' }),
    final_state: jsonValue().openapi({ description: 'The state, once completed; else null' }),
    error: z
      .object({
        code: z.string().openapi({ description: `One of ${RUN_ERROR_CODES.join(', ')}` }),
        message: z.string(),
      })
      .nullable(),
    paused: z.object({ node_id: z.string(), prompt: z.string() }).nullable(),
    current_node: z.string().nullable(),
    created_at: Timestamp,
    started_at: Timestamp.nullable(),
    ended_at: Timestamp.nullable(),
    active_ms: z.int().nullable(),
    duration_ms: z.int().nullable(),
    last_event_id: z
      .int()
      .nullable()
      .openapi({ description: 'The last event in the run’s log, while the hub has it' }),
    stream_url: z.string(),
    parent_run_id: Uuid.nullable().openapi({ description: 'A rerun: the run it was started from' }),
    from_node: z.string().nullable().openapi({ description: 'A rerun: the node it started at' }),
    reruns: z.int().openapi({ description: 'How many reruns were started from this run' }),
    retry: z
      .object({ node_id: z.string(), attempt: z.int(), next_attempt_at: Timestamp })
      .nullable()
      .openapi({
        description: 'While a node waits between attempts: the attempt that failed, and when the next is due',
      }),
  })
  .openapi('Run');

type Json = z.infer<ReturnType<typeof jsonValue>>;
type RunView = ReturnType<typeof runJson>;

/**
 * A run's view (runJson) as the API answers it. Its state fields came out of jsonb or the hub's
 * JSON state, so they are JSON; runJson only does not say so.
 */
export const runAnswer = (view: RunView, reruns = 0): z.infer<typeof RunSchema> => ({
  ...view,
  reruns,
  input: view.input as Json,
  state: view.state as Json,
  final_state: view.final_state as Json,
});

export const RunStartedSchema = z
  .object({ run_id: Uuid, status: runStatus, stream_url: z.string(), status_url: z.string() })
  .openapi('RunStarted');

export const RunResumedSchema = z
  .object({ run_id: Uuid, status: runStatus, stream_url: z.string() })
  .openapi('RunResumed');

export const RunCancelledSchema = z.object({ run_id: Uuid, status: runStatus }).openapi('RunCancelled');

export const RunCheckpointsSchema = z
  .object({
    items: z.array(
      z.object({
        node_id: z.string(),
        step: z.int().openapi({ description: 'The run’s step when the node (last) started' }),
        state: jsonValue().openapi({ description: 'The state before the node ran' }),
        at: Timestamp,
      }),
    ),
    kept_until: Timestamp.nullable().openapi({
      description: 'When these checkpoints go (7 days after the run ended); null while it runs',
    }),
  })
  .openapi('RunCheckpoints');

/** The hub's checkpoints as the API answers them (their states came out of the hub's JSON). */
export const checkpointsAnswer = (
  items: { node_id: string; step: number; state: unknown; at: number }[],
  keptUntil: number | null,
): z.infer<typeof RunCheckpointsSchema> => ({
  items: items.map((i) => ({
    node_id: i.node_id,
    step: i.step,
    state: i.state as Json,
    at: new Date(i.at).toISOString(),
  })),
  kept_until: keptUntil === null ? null : new Date(keptUntil).toISOString(),
});
