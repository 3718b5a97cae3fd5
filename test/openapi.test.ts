import { describe, expect, it } from 'vitest';
import { call } from './helpers';

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface Document {
  openapi: string;
  security?: Record<string, string[]>[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
}

// Every route of DESIGN.md's table that exists today, as OpenAPI writes it.
const CONTRACT_ROUTES = [
  'get /healthz',
  'post /v1/sessions',
  'get /v1/sessions',
  'get /v1/sessions/{id}',
  'post /v1/sessions/{id}/steps',
  'post /v1/sessions/{id}/handoffs',
  'get /v1/escalations',
  'get /v1/escalations/stream',
  'post /v1/handoffs/{id}/pickup',
  'post /v1/handoffs/{id}/resolve',
  'post /v1/handoffs/{id}/cancel',
  'get /v1/handoffs/{id}/context',
  'get /v1/escalations/metrics',
  'post /v1/graphs',
  'get /v1/graphs',
  'get /v1/graphs/{id}',
  'post /v1/graphs/{id}/run',
  'get /v1/runs',
  'get /v1/runs/{id}/status',
  'get /v1/runs/{id}/stream',
  'post /v1/runs/{id}/resume',
  'post /v1/runs/{id}/cancel',
  'post /v1/runs/{id}/rerun',
  'get /v1/usage',
  'post /v1/webhooks',
  'get /v1/webhooks',
  'get /v1/webhooks/{id}',
  'patch /v1/webhooks/{id}',
  'delete /v1/webhooks/{id}',
  'get /v1/webhooks/{id}/deliveries',
  'post /v1/webhooks/{id}/test',
  'post /v1/handoffs/{id}/release',
  'get /v1/handoffs/{id}/timeline',
  'put /v1/handoffs/{id}/viewing',
  'delete /v1/handoffs/{id}/viewing',
  'get /v1/escalation-policy',
  'put /v1/escalation-policy',
];

async function loadDocument(): Promise<Document> {
  const res = await call('/openapi.json', null);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Document;
}

const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ key: `${method} ${path}`, op })),
  );

describe('API description', () => {
  it('serves OpenAPI 3.1 without a token, with a bearer security scheme', async () => {
    const doc = await loadDocument();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
  });

  it('lists every route of the contract that exists, and nothing dev-only', async () => {
    const doc = await loadDocument();
    const listed = operations(doc).map((o) => o.key);
    for (const route of CONTRACT_ROUTES) expect(listed, route).toContain(route);
    expect(listed.filter((k) => k.includes('/dev/'))).toEqual([]);
  });

  it('describes bodies, params, answers and errors; streams as text/event-stream; /healthz without auth', async () => {
    const doc = await loadDocument();
    for (const { key, op } of operations(doc)) {
      const statuses = Object.keys(op.responses);
      expect(
        statuses.some((s) => s.startsWith('2')),
        `${key} has a success answer`,
      ).toBe(true);
      if (key.includes('{id}')) {
        expect(
          op.parameters?.some((p) => p.name === 'id' && p.in === 'path'),
          `${key} has its id`,
        ).toBe(true);
      }
      if (key.startsWith('post ') && !/\/(pickup|resolve|cancel|test)$/.test(key)) {
        expect(op.requestBody?.content['application/json'], `${key} has a JSON body`).toBeDefined();
      }
      if (key.startsWith('get /v1') || key.startsWith('post /v1')) {
        expect(op.responses['401']?.content?.['application/json']?.schema?.$ref, `${key} answers 401`).toBe(
          '#/components/schemas/Error',
        );
      }
    }
    for (const stream of ['get /v1/escalations/stream', 'get /v1/runs/{id}/stream']) {
      const op = operations(doc).find((o) => o.key === stream)?.op;
      expect(op?.responses['200']?.content?.['text/event-stream']).toBeDefined();
    }
    expect(doc.paths['/healthz']?.get?.security).toEqual([]);
    const metrics = doc.paths['/v1/escalations/metrics']?.get;
    expect(metrics?.parameters?.map((p) => p.name).sort()).toEqual(['from', 'to', 'tz']);
  });

  it('serves the browsable reference at /docs without a token', async () => {
    const res = await call('/docs', null);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('/openapi.json');
    expect(html).toContain('Switchboard API');
  });

  it('still answers the API with JSON errors: a token is still required under /v1', async () => {
    const res = await call('/v1/sessions', null);
    expect(res.status).toBe(401);
  });
});
