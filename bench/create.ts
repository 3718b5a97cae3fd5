// Create: POST handoff → 201, against the platform floor of an authenticated write (POST
// /v1/sessions: the Worker, auth, one INSERT) and against the peer's create; then where the time
// goes (the hub's log call alone, the statements alone on a warm connection, an authenticated
// round trip that touches nothing), and the database path: one-shot statements over the Neon
// driver's HTTP path (the default) against a new WebSocket connection per request.
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Db } from '../worker/db/client';
import { createHandoff } from '../worker/escalations/create-handoff';
import { type Bench, ms, type Row, ratioRow, type Suite } from './lib/bench';
import { monotonicMs } from './lib/clients';
import { call, median, percentile, sleep } from './lib/http';

interface Series {
  p50: number;
  p99: number;
}

/**
 * Between two timed requests: each handoff's assessment runs in the hub right after its create
 * (on the same workerd thread, bridge and database here), and must not be timed as part of the
 * next create. Every system gets the same pause.
 */
const PAUSE_MS = 60;

async function timed(n: number, fn: (i: number) => Promise<unknown>, pauseMs = 0): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = monotonicMs();
    await fn(i);
    out.push(monotonicMs() - t);
    if (pauseMs) await sleep(pauseMs);
  }
  return out.sort((a, b) => a - b);
}

const series = (xs: number[]): Series => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });
const med = (list: Series[], k: keyof Series) => median(list.map((s) => s[k]));

export const createSuite: Suite = {
  name: 'create',
  async run(b: Bench) {
    const perRun = b.quick ? 20 : 100;
    const peer = await b.peer();
    const sbAccount = await b.account();
    const peerAccount = await b.account();
    const base = b.runtime.url;
    const expect201 = (what: string) => (res: { status: number; text: string }) => {
      if (res.status !== 201) throw new Error(`${what} answered ${res.status}: ${res.text.slice(0, 200)}`);
    };
    const systems = {
      handoff: (i: number) =>
        call(base, 'POST', `/v1/sessions/${sbAccount.sessionId}/handoffs`, {
          token: sbAccount.token,
          body: { intent: 'escalate', reason: `create ${i}`, severity: 'normal' },
        }).then(expect201('handoff')),
      session: (_i: number) =>
        call(base, 'POST', '/v1/sessions', {
          token: sbAccount.token,
          body: { title: 't', problem_summary: 'p' },
        }).then(expect201('session')),
      peer: (i: number) =>
        call(peer.url, 'POST', `/v1/sessions/${peerAccount.sessionId}/handoffs`, {
          token: peerAccount.token,
          body: { intent: 'escalate', reason: `peer ${i}`, severity: 'normal' },
        }).then(expect201('peer handoff')),
    };
    type Name = keyof typeof systems;
    const measure = async (label: string) => {
      for (const fn of Object.values(systems)) for (let i = 0; i < 10; i++) await fn(i);
      const out: Record<Name, Series[]> = { handoff: [], session: [], peer: [] };
      for (let r = 0; r < b.repeats; r++) {
        const names = Object.keys(systems) as Name[];
        const order = r % 2 === 0 ? names : [...names].reverse();
        for (const name of order) out[name].push(series(await timed(perRun, systems[name], PAUSE_MS)));
        b.log(
          `create (${label}) repeat ${r + 1}: handoff ${ms(out.handoff.at(-1)?.p50 ?? Number.NaN)} ms, session ${ms(out.session.at(-1)?.p50 ?? Number.NaN)} ms, peer ${ms(out.peer.at(-1)?.p50 ?? Number.NaN)} ms (p50)`,
        );
      }
      return out;
    };

    const http = await measure('HTTP one-shot statements');

    // Where the time goes.
    const floor = series(
      await timed(perRun, async () => {
        const res = await call(base, 'GET', '/v1/no-such-route', { token: sbAccount.token });
        if (res.status !== 404) throw new Error(`expected 404, got ${res.status}`);
      }),
    );
    const hubLog = series(await timed(perRun, (i) => b.publishToHub(sbAccount.accountId, 1_000_000 + i)));
    const healthz = series(
      await timed(Math.min(perRun, 50), async () => {
        const res = await call(base, 'GET', '/healthz');
        if (res.status !== 200) throw new Error(`healthz ${res.status}`);
      }),
    );
    const direct = new pg.Client({ connectionString: b.database.url });
    await direct.connect();
    let statements: { handoff: Series; session: Series };
    try {
      // The create's own statement (the handoff, its card, its outbox row), from the same builder.
      const conn = drizzle({ client: direct }) as unknown as Db;
      const who = {
        accountId: sbAccount.accountId,
        userId: sbAccount.userId,
        role: 'engineer' as const,
        name: 'Bench',
      };
      const h = await timed(perRun, (i) =>
        createHandoff(
          conn,
          who,
          sbAccount.sessionId,
          { intent: 'escalate', reason: `stmt ${i}`, severity: 'normal' },
          undefined,
          // The bench plays one user flat out; the per-user window is the suite's to test. (The
          // statement reads the limit as a Postgres int: MAX_SAFE_INTEGER made it fail.)
          2 ** 31 - 1,
        ),
      );
      const s = await timed(perRun, () =>
        direct.query(
          `insert into sessions (account_id, created_by, title, problem_summary) values ($1, $2, 't', 'p')`,
          [sbAccount.accountId, sbAccount.userId],
        ),
      );
      statements = { handoff: series(h), session: series(s) };
      // Those outbox rows were never published; they must not be swept into the hub later.
      await direct.query(
        'update outbox set published_at = now() where account_id = $1 and published_at is null',
        [sbAccount.accountId],
      );
    } finally {
      await direct.end();
    }

    // The same requests with a new WebSocket connection per request (NEON_HTTP_QUERIES=false).
    b.log('create: restarting workerd with NEON_HTTP_QUERIES=false…');
    await b.runtime.restart({ NEON_HTTP_QUERIES: 'false' });
    const ws = await measure('a new WebSocket connection per request');
    await b.runtime.restart({ NEON_HTTP_QUERIES: 'true' });

    const rows: Row[] = [];
    const h = med(http.handoff, 'p50');
    const s = med(http.session, 'p50');
    const p = med(http.peer, 'p50');
    const breakdown = `a create is an authenticated write (${ms(s)} ms) plus the hub logging the event before the 201 (${ms(hubLog.p50)} ms through the bench publisher, HTTP included) plus a heavier statement (handoff + card + outbox ${ms(statements.handoff.p50)} ms vs a session insert ${ms(statements.session.p50)} ms on a warm connection)`;
    rows.push(
      ratioRow(
        'Create, p50: POST handoff → 201 vs POST /v1/sessions → 201 (the platform floor of an authenticated write)',
        h,
        s,
        'POST /v1/sessions',
        1.3,
        'ms',
        breakdown,
      ),
    );
    rows.push(
      ratioRow(
        'Create, p50: POST handoff → 201, Switchboard vs the peer stack',
        h,
        p,
        'peer',
        2,
        'ms',
        `${breakdown}; the peer runs its INSERT on a warm pooled connection and publishes to Redis`,
      ),
    );
    const line = (what: string, list: Series[]) =>
      `| ${what} | ${ms(med(list, 'p50'))} | ${ms(med(list, 'p99'))} |`;
    const one = (what: string, x: Series) => `| ${what} | ${ms(x.p50)} | ${ms(x.p99)} |`;
    const section = `## Create: POST handoff → 201

Sequential, one client with a keep-alive connection, ${perRun} requests per repeat after a warm-up
of 10, ${PAUSE_MS} ms apart (each handoff's assessment runs in the hub right after its create; here it
shares the workerd thread, the bridge and the database, and must not be timed as part of the next
request; every system gets the same pause), the three systems interleaved. The create answers once the handoff, its card and its outbox
row are committed (one statement) and the account hub has logged the event; the fan-out follows
the answer. Then the same with one-shot statements over a new WebSocket connection per request
(\`NEON_HTTP_QUERIES=false\`, workerd restarted with it).

| what | p50 ms | p99 ms |
| --- | --- | --- |
${line('`POST /v1/sessions/:id/handoffs` → 201 (one-shot statements over the Neon HTTP path)', http.handoff)}
${line('`POST /v1/sessions` → 201 (the same path; one INSERT)', http.session)}
${line('peer: `POST …/handoffs` → 201 (pg pool, the same INSERT, Redis PUBLISH)', http.peer)}
${line('`POST /v1/sessions/:id/handoffs` → 201, a new WebSocket connection per request', ws.handoff)}
${line('`POST /v1/sessions` → 201, a new WebSocket connection per request', ws.session)}
${one('where the time goes: an authenticated request that touches nothing (404)', floor)}
${one('where the time goes: the hub logs one event (bench publisher → hub RPC → SQLite → answer)', hubLog)}
${one('where the time goes: `GET /healthz` (a `select 1` over the HTTP path)', healthz)}
${one('where the time goes: the handoff + outbox INSERT alone, warm `pg` connection', statements.handoff)}
${one('where the time goes: the session INSERT alone, warm `pg` connection', statements.session)}
`;
    return { rows, section };
  },
};
