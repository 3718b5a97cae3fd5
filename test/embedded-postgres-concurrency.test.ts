import { describe, expect, it } from 'vitest';
import { call, createSession, makeUser } from './helpers';

// End to end through the Worker and the Neon driver: many concurrent statements with different
// parameter counts, against whichever Postgres the suite uses. The interleaving bug this once
// showed depends on timing; scripts/lib/session-queue.test.ts pins the fix deterministically.
describe('embedded Postgres under concurrent clients', () => {
  it('answers many concurrent statements with different parameter counts correctly', async () => {
    const users = await Promise.all(Array.from({ length: 4 }, () => makeUser()));
    const sessions = await Promise.all(users.map((u) => createSession(u)));
    const requests: Promise<Response>[] = [];
    // 48 at once: enough to interleave on the embedded server, and within a real server's
    // default max_connections (100) while other test files run too.
    for (let i = 0; i < 4; i++) {
      users.forEach((u, n) => {
        requests.push(
          call('/v1/sessions', u, { body: { title: `t${i}`, problem_summary: 'p', customer: 'c' } }),
        );
        requests.push(call(`/v1/sessions?limit=${1 + i}`, u));
        requests.push(
          call(`/v1/sessions/${sessions[n]?.id}/steps`, u, {
            body: { action: `a${i}`, outcome: 'unknown', notes: 'n' },
          }),
        );
      });
    }
    const statuses = (await Promise.all(requests)).map((r) => r.status);
    expect(statuses.filter((s) => s >= 300)).toEqual([]);
  });
});
