import { z } from '@hono/zod-openapi';
import type { GraphRow } from '../db/schema';
import { type Graph, graphSchema } from '../graphs/graph-schema';
import { pageQuery } from '../lib/pagination';
import { Timestamp, Uuid } from './common';

// Graphs as the API takes and gives them.

/** The graph's structure (DESIGN.md "Graphs and runs"): what is stored, and what a run executes. */
export const GraphDefinitionSchema = graphSchema.openapi('GraphDefinition');

export const CreateGraphBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    // Checked by validateGraph, whose messages name the node or edge at fault.
    schema: z
      .unknown()
      .refine((v) => v !== undefined, { message: 'is required' })
      .openapi({
        description:
          'A GraphDefinition `{entry, nodes[], edges[]}`, validated when stored: unknown node types, dangling edges, unreachable nodes and a missing entry are 400 `invalid_graph`, naming the problem',
      }),
  })
  .openapi('CreateGraph');

export const GraphListQuery = pageQuery.extend({ name: z.string().trim().min(1).max(200).optional() });

export const GraphSchema = z
  .object({
    id: Uuid,
    name: z.string(),
    version: z.int().openapi({ description: 'Storing a name again stores version n+1 under a new id' }),
    created_by: Uuid,
    schema: GraphDefinitionSchema,
    created_at: Timestamp,
  })
  .openapi('Graph');

export const graphJson = (g: GraphRow): z.infer<typeof GraphSchema> => ({
  id: g.id,
  name: g.name,
  version: g.version,
  created_by: g.createdBy,
  // Stored only after validateGraph accepted it, so it is a Graph.
  schema: g.schema as Graph,
  created_at: g.createdAt.toISOString(),
});
