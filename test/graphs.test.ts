import { describe, expect, it } from 'vitest';
import { call, colleague, expectError, json, makeUser } from './helpers';
import { createGraph, humanGraph, linearGraph } from './runs-helpers';

type Graph = { id: string; name: string; version: number; created_by: string; schema: unknown };
type Detail = { field: string; message: string };

async function rejected(schema: unknown) {
  const user = await makeUser();
  const err = await expectError(
    await call('/v1/graphs', user, { body: { name: 'bad', schema } }),
    400,
    'invalid_graph',
  );
  return { message: err.message, details: err.details as Detail[] };
}

describe('graphs', () => {
  it('stores a validated graph and reads it back', async () => {
    const alice = await makeUser();
    const res = await call('/v1/graphs', alice, { body: { name: 'triage', schema: humanGraph } });
    expect(res.status).toBe(201);
    const created = await json<Graph>(res);
    expect(created).toMatchObject({ name: 'triage', version: 1, created_by: alice.sub });
    expect(res.headers.get('location')).toBe(`/v1/graphs/${created.id}`);
    const one = await json<Graph>(await call(`/v1/graphs/${created.id}`, alice));
    expect(one.schema).toMatchObject({ entry: 'ask' });
  });

  it('versions by name: storing a name again makes version n+1 under a new id', async () => {
    const alice = await makeUser();
    const v1 = await createGraph(alice, humanGraph, 'flow');
    const v2 = await createGraph(alice, linearGraph, 'flow');
    const other = await createGraph(alice, linearGraph, 'other');
    expect([v1.version, v2.version, other.version]).toEqual([1, 2, 1]);
    expect(v2.id).not.toBe(v1.id);
    // The first version is unchanged: runs of it keep running what they started with.
    expect((await json<Graph>(await call(`/v1/graphs/${v1.id}`, alice))).schema).toMatchObject({
      entry: 'ask',
    });

    const byName = await json<{ items: Graph[] }>(await call('/v1/graphs?name=flow', alice));
    expect(byName.items.map((g) => g.version)).toEqual([2, 1]);

    const first = await json<{ items: Graph[]; next_cursor: string }>(
      await call('/v1/graphs?limit=2', alice),
    );
    expect(first.items.map((g) => g.id)).toEqual([other.id, v2.id]);
    const second = await json<{ items: Graph[]; next_cursor: null }>(
      await call(`/v1/graphs?limit=2&cursor=${first.next_cursor}`, alice),
    );
    expect(second.items.map((g) => g.id)).toEqual([v1.id]);
    expect(second.next_cursor).toBeNull();
  });

  it("lets only an admin add versions to someone else's graph", async () => {
    const alice = await makeUser();
    const bob = await colleague(alice, 'engineer', 'Bob');
    const admin = await colleague(alice, 'admin', 'Ada');
    const viewer = await colleague(alice, 'viewer', 'Vic');
    await createGraph(alice, humanGraph, 'shared');
    await expectError(
      await call('/v1/graphs', bob, { body: { name: 'shared', schema: linearGraph } }),
      403,
      'forbidden',
    );
    expect((await createGraph(admin, linearGraph, 'shared')).version).toBe(2);
    await expectError(await call('/v1/graphs', viewer, { body: { name: 'mine', schema: linearGraph } }), 403);
    // Viewers read.
    expect((await call('/v1/graphs', viewer)).status).toBe(200);
  });

  it("answers another account's graph with a 404", async () => {
    const alice = await makeUser();
    const mallory = await makeUser();
    const graph = await createGraph(alice, humanGraph);
    await expectError(await call(`/v1/graphs/${graph.id}`, mallory), 404, 'not_found');
    expect((await json<{ items: Graph[] }>(await call('/v1/graphs', mallory))).items).toEqual([]);
    await expectError(
      await call(`/v1/graphs/${graph.id}/run`, mallory, { body: { input: {} } }),
      404,
      'not_found',
    );
    await expectError(await call('/v1/graphs/not-a-uuid', alice), 400);
  });

  describe('rejects bad graphs with a 400 naming the node or edge', () => {
    const node = (id: string, extra: Record<string, unknown> = {}) => ({
      id,
      type: 'transform',
      set: { [id]: true },
      ...extra,
    });

    it('an unknown node type', async () => {
      const { details } = await rejected({
        entry: 'a',
        nodes: [node('a'), { id: 'b', type: 'teleport' }],
        edges: [{ from: 'a', to: 'b' }],
      });
      expect(details).toContainEqual({
        field: 'schema.nodes[1].type',
        message: expect.stringContaining('node "b": unknown node type "teleport"'),
      });
    });

    it('a dangling edge', async () => {
      const { details, message } = await rejected({
        entry: 'a',
        nodes: [node('a')],
        edges: [{ from: 'a', to: 'ghost' }],
      });
      expect(message).toContain('target node "ghost" does not exist');
      expect(details[0]).toMatchObject({
        field: 'schema.edges[0].to',
        message: expect.stringContaining('edge "a" → "ghost"'),
      });
    });

    it('an unreachable node', async () => {
      const { details } = await rejected({
        entry: 'a',
        nodes: [node('a'), node('island')],
        edges: [{ from: 'a', to: '__end__' }],
      });
      expect(details).toContainEqual({
        field: 'schema.nodes[1]',
        message: 'node "island" is unreachable from entry "a"',
      });
    });

    it('a missing entry', async () => {
      const { details } = await rejected({ nodes: [node('a')], edges: [] });
      expect(details[0]).toMatchObject({
        field: 'schema.entry',
        message: expect.stringContaining('no entry'),
      });
      const { details: unknownEntry } = await rejected({ entry: 'zzz', nodes: [node('a')], edges: [] });
      expect(unknownEntry).toContainEqual({
        field: 'schema.entry',
        message: 'graph entry "zzz" is not a node',
      });
    });

    it('a branch without a default', async () => {
      const { details } = await rejected({
        entry: 'a',
        nodes: [node('a'), node('b')],
        edges: [{ from: 'a', branches: [{ when: { field_exists: 'x' }, to: 'b' }] }],
      });
      expect(details[0]).toMatchObject({
        field: 'schema.edges[0].default',
        message: expect.stringContaining('edge from "a"'),
      });
    });

    it('a cycle without a human_input or an exit', async () => {
      const { details } = await rejected({
        entry: 'a',
        nodes: [node('a'), node('b')],
        edges: [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'a' },
        ],
      });
      expect(details[0]?.message).toContain('nodes "a", "b" form a cycle');
    });

    it('a missing schema, a bad name, malformed JSON, a wrong content type and an oversize body', async () => {
      const user = await makeUser();
      await expectError(await call('/v1/graphs', user, { body: { name: 'x' } }), 400, 'validation_failed');
      await expectError(await call('/v1/graphs', user, { body: { name: '', schema: humanGraph } }), 400);
      await expectError(await call('/v1/graphs', user, { body: '{"name": ' }), 400, 'malformed_json');
      await expectError(
        await call('/v1/graphs', user, { body: 'name=x', headers: { 'content-type': 'text/plain' } }),
        415,
      );
      const big = { name: 'big', schema: { ...humanGraph, pad: 'x'.repeat(70_000) } };
      await expectError(await call('/v1/graphs', user, { body: big }), 413, 'payload_too_large');
      const { details } = await rejected('not a graph');
      expect(details[0]?.field).toBe('schema');
    });
  });
});
