import { z } from '@hono/zod-openapi';
import { RUN_ERROR_CODES, RUN_STATUSES } from '../contract/statuses';
import { jsonValue } from '../lib/json-value';
import { pageQuery } from '../lib/pagination';
import type { runJson } from '../runs/run-view';
import { Timestamp, Uuid, uuidParam } from './common';

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

export const RunListQuery = pageQuery.extend({
  status: z.enum(RUN_STATUSES).optional(),
  graph_id: uuidParam.optional(),
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
  })
  .openapi('Run');

type Json = z.infer<ReturnType<typeof jsonValue>>;
type RunView = ReturnType<typeof runJson>;

/**
 * A run's view (runJson) as the API answers it. Its state fields came out of jsonb or the hub's
 * JSON state, so they are JSON; runJson only does not say so.
 */
export const runAnswer = (view: RunView): z.infer<typeof RunSchema> => ({
  ...view,
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
