import { sql } from 'drizzle-orm';
import { DEMO_ACCOUNT_ID, DEMO_USERS } from '../../worker/dev/demo-users';
import { connectNode } from './neon-node';

/** The demo account with two engineers and an admin; safe to run on every start. */
export async function seedDemo(databaseUrl: string): Promise<void> {
  const conn = await connectNode(databaseUrl);
  try {
    await conn.db.execute(sql`insert into accounts (id) values (${DEMO_ACCOUNT_ID}) on conflict do nothing`);
    for (const u of DEMO_USERS) {
      await conn.db.execute(sql`
        insert into users (account_id, id, name, role) values (${DEMO_ACCOUNT_ID}, ${u.id}, ${u.name}, ${u.role})
        on conflict (account_id, id) do update set name = excluded.name, role = excluded.role`);
    }
  } finally {
    await conn.close();
  }
}

/** What `POST /dev/seed` answers (worker/dev/demo-seed.ts). */
export type DemoSeedAnswer =
  | {
      seeded: true;
      summary: {
        sessions: number;
        handoffs: number;
        by_status: Record<string, number>;
        timers_fired: number;
        events_published: number;
        graphs: { name: string }[];
        runs: unknown[];
        took_ms: number;
      };
    }
  | { seeded: false; reason: 'already_seeded'; started_at: string; finished_at: string | null }
  | { seeded: false; reason: 'not_empty' };

/** The zone of the person running this: the demo week's working days are theirs. */
export const localTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/**
 * Asks a running Worker (dev mode) to seed an account with the demo week: the seed runs inside
 * the Worker, through the same stores, outbox and hub as real use (docs/demo.md).
 */
export async function requestDemoSeed(
  url: string,
  opts: { ifEmpty: boolean; tz?: string; accountId?: string },
): Promise<DemoSeedAnswer> {
  const res = await fetch(`${url}/dev/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      if_empty: opts.ifEmpty,
      tz: opts.tz ?? localTimeZone(),
      ...(opts.accountId ? { account_id: opts.accountId } : {}),
    }),
    signal: AbortSignal.timeout(300_000),
  });
  const text = await res.text();
  if (res.status === 404) throw new Error('the Worker is not in dev mode (DEV_MODE=true): /dev/seed is off');
  if (!res.ok) throw new Error(`POST /dev/seed answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as DemoSeedAnswer;
}

/** One line on what a seed did, for people. */
export function describeSeed(answer: DemoSeedAnswer): string {
  if (answer.seeded) {
    const s = answer.summary;
    const statuses = Object.entries(s.by_status)
      .map(([k, n]) => `${n} ${k.replace('_', ' ')}`)
      .join(', ');
    return `seeded a week of history: ${s.sessions} sessions, ${s.handoffs} hand-offs (${statuses}), ${s.timers_fired} clock events, ${s.graphs.length} graphs, ${s.runs.length} runs, in ${(s.took_ms / 1000).toFixed(1)} s`;
  }
  if (answer.reason === 'already_seeded') {
    return `already seeded on ${answer.started_at}${answer.finished_at ? '' : ' (that seed did not finish: delete .data/ to start afresh)'}; nothing written`;
  }
  return 'the demo account already has data, so it was not seeded; `npm run seed` adds the demo week next to it';
}
