import { findGraph, listGraphs, storeGraphVersion } from '../graphs/graph-store';
import { validateGraph } from '../graphs/validate-graph';
import { badRequest, forbidden, notFound } from '../lib/errors';
import { createRouter, jsonBody, jsonResponse, routesOf } from '../lib/openapi';
import { listPage } from '../lib/pagination';
import { CreateGraphBody, GraphListQuery, GraphSchema, graphJson } from '../schemas/graphs';

const route = routesOf('Graphs');

const store = route.post('/', {
  summary: 'Store a graph (validated), as the next version of its name',
  description:
    'Graphs are immutable and versioned by name: posting a name that exists stores version n+1 under a new id. A name belongs to whoever stored its first version; only an admin may add versions to someone else’s graph (else 403).',
  request: { body: jsonBody(CreateGraphBody) },
  answers: { 201: jsonResponse(GraphSchema, 'The stored graph') },
});

const list = route.list('/', {
  summary: 'List the account’s graphs, newest first',
  query: GraphListQuery,
  item: GraphSchema,
  name: 'Graph',
  what: 'graphs',
});

const one = route.get('/{id}', {
  summary: 'One graph',
  answers: { 200: jsonResponse(GraphSchema, 'The graph') },
});

export const graphRoutes = createRouter()
  .openapi(store, async (c) => {
    const body = c.req.valid('json');
    const checked = validateGraph(body.schema);
    if (!checked.ok) {
      const first = checked.issues[0]?.message ?? 'invalid graph';
      throw badRequest(
        'invalid_graph',
        checked.issues.length > 1 ? `${first} (and ${checked.issues.length - 1} more)` : first,
        checked.issues.map((i) => ({
          field: i.path === '' ? 'schema' : `schema.${i.path}`,
          message: i.message,
        })),
      );
    }
    const stored = await storeGraphVersion(await c.var.db(), c.var.identity, body.name, checked.graph);
    if (!stored.ok) {
      throw forbidden(`the graph "${body.name}" belongs to another user; only an admin may add versions`);
    }
    return c.json(graphJson(stored.row), 201, { Location: `/v1/graphs/${stored.row.id}` });
  })
  .openapi(list, async (c) => {
    const query = c.req.valid('query');
    const db = await c.var.db();
    const accountId = c.var.identity.accountId;
    return c.json(
      await listPage(query, (w) => listGraphs(db, accountId, { name: query.name, ...w }), graphJson),
      200,
    );
  })
  .openapi(one, async (c) => {
    const row = await findGraph(await c.var.db(), c.var.identity.accountId, c.req.valid('param').id);
    if (!row) throw notFound('graph');
    return c.json(graphJson(row), 200);
  });
