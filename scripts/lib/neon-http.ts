import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type * as PgModule from 'pg';

// Neon's SQL-over-HTTP endpoint, for the local stack: the Neon driver sends a one-shot query (and
// a batch, as one transaction) as `POST /sql` with the connection string in a header, and gets the
// rows back as raw text. Neon's proxy answers from connections it keeps warm; so does this one,
// one small pool per connection string. Locally only: in production the driver talks to Neon.

// Loaded through Node's resolver (as ws is): under Vite's workerd conditions `pg` would resolve to
// its Workers build.
const require = createRequire(import.meta.url);
const pg = require('pg') as typeof PgModule;

/** Every value as the text Postgres sent, which is what the driver parses itself. */
const rawText = { getTypeParser: () => (value: string) => value };

/** The fields of a Postgres error the driver copies onto its own error. */
const ERROR_FIELDS = [
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const;

interface Query {
  query: string;
  params: unknown[];
}

export interface NeonHttp {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/**
 * `POST /sql?address=host:port`: the driver drops the port from the connection string it sends
 * (Neon's endpoint knows its own), so the Worker's endpoint URL names the server, as the
 * WebSocket path does.
 */
export function neonHttp(onStatements: (n: number) => void = () => {}): NeonHttp {
  const pools = new Map<string, PgModule.Pool>();
  // A client whose server goes away while it is checked out emits 'error' on itself (the pool's
  // listener only covers idle ones); unheard, that would end the process.
  const heard = new WeakSet<PgModule.PoolClient>();
  const poolFor = (connectionString: string) => {
    let pool = pools.get(connectionString);
    if (!pool) {
      pool = new pg.Pool({ connectionString, max: 8, idleTimeoutMillis: 30_000 });
      pool.on('error', () => {});
      pools.set(connectionString, pool);
    }
    return pool;
  };

  const run = async (client: PgModule.PoolClient, q: Query) => {
    const result = await client.query({ text: q.query, values: q.params, rowMode: 'array', types: rawText });
    return {
      command: result.command,
      rowCount: result.rowCount,
      fields: result.fields.map((f) => ({
        name: f.name,
        dataTypeID: f.dataTypeID,
        tableID: f.tableID,
        columnID: f.columnID,
        dataTypeSize: f.dataTypeSize,
        dataTypeModifier: f.dataTypeModifier,
        format: f.format,
      })),
      rows: result.rows,
      rowAsArray: true,
    };
  };

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  return {
    handle(req, res) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const target = new URL(req.url ?? '/', 'http://bridge').searchParams.get('address');
        const header = req.headers['neon-connection-string'];
        if (req.method !== 'POST' || typeof header !== 'string' || !target) {
          answer(res, 400, { message: 'POST /sql?address=host:port with a Neon-Connection-String header' });
          return;
        }
        const url = new URL(header);
        const [host, port] = [
          target.slice(0, target.lastIndexOf(':')),
          target.slice(target.lastIndexOf(':') + 1),
        ];
        if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
          answer(res, 400, { message: 'only loopback databases' });
          return;
        }
        url.hostname = host;
        url.port = port;
        let client: PgModule.PoolClient | undefined;
        let broken = false;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Query | { queries: Query[] };
          client = await poolFor(url.toString()).connect();
          if (!heard.has(client)) {
            heard.add(client);
            client.on('error', () => {});
          }
          onStatements('queries' in body ? body.queries.length : 1);
          if ('queries' in body) {
            // A batch is one transaction, as on Neon.
            const isolation = req.headers['neon-batch-isolation-level'];
            await client.query(
              `begin${typeof isolation === 'string' ? ` isolation level ${isolation.replace(/[^A-Za-z ]/g, '')}` : ''}`,
            );
            const results = [];
            try {
              for (const q of body.queries) results.push(await run(client, q));
              await client.query('commit');
            } catch (err) {
              await client.query('rollback').catch(() => {});
              throw err;
            }
            answer(res, 200, { results });
          } else {
            answer(res, 200, await run(client, body));
          }
        } catch (err) {
          const e = err as Record<string, unknown> & { message?: string };
          if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
            answer(res, 400, {
              message: e.message,
              ...Object.fromEntries(ERROR_FIELDS.filter((f) => e[f] !== undefined).map((f) => [f, e[f]])),
            });
          } else {
            broken = true;
            answer(res, 503, { message: `cannot reach the database: ${e.message ?? String(err)}` });
          }
        } finally {
          // A connection that failed is dropped, not handed to the next query.
          client?.release(broken);
        }
      });
    },
    async close() {
      await Promise.all([...pools.values()].map((p) => p.end().catch(() => {})));
      pools.clear();
    },
  };
}
