import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { handoffs } from '../worker/db/schema';
import { escalationsModule } from '../worker/escalations/escalations-module';
import type { Hub, HubEvent } from '../worker/hub/hub-module';
import type { Job } from '../worker/hub/job-queue';
import { createOpenAiProvider } from '../worker/providers/openai-provider';
import { escalate, waitFor } from './escalation-helpers';
import { call, json, makeUser, type TestUser, withDb } from './helpers';

// The assessment job of the escalations module, run alone against real Postgres with a model at
// the edge: the OpenAI-compatible server on loopback (test/setup/fake-openai.ts), whose `model`
// picks its answer. With no model configured the hub assesses with the heuristic (test/handoffs.test.ts).

const server = (env as unknown as { OPENAI_FAKE_URL: string }).OPENAI_FAKE_URL;

/** A host that records what the module publishes and completes. */
function fakeHub(accountId: string) {
  const published: HubEvent[] = [];
  const completed: string[] = [];
  const work: Promise<unknown>[] = [];
  const hub = {
    name: accountId,
    env,
    jobs: { complete: (id: string) => void completed.push(id) },
    publish: async (events: HubEvent[]) => {
      published.push(...events);
      return { ids: events.map((_, i) => i + 1), duplicates: 0 };
    },
    waitUntil: (p: Promise<unknown>) => void work.push(p),
  } as unknown as Hub;
  return { hub, published, completed, settle: () => Promise.all(work) };
}

/** A handoff whose assessment is pending again (the real hub assessed it already, heuristically). */
async function pendingHandoff(user: TestUser): Promise<string> {
  const card = await escalate(user);
  await waitFor(async () => {
    const c = await json<{ ai_status: string }>(await call(`/v1/handoffs/${card.id}/context`, user));
    return c.ai_status === 'pending' ? undefined : true;
  }, 'the hub’s own assessment');
  await withDb((db) =>
    db
      .update(handoffs)
      .set({ aiStatus: 'pending', aiAssessment: null, aiError: null })
      .where(eq(handoffs.id, card.id)),
  );
  return card.id;
}

const job = (accountId: string, handoffId: string, attempts: number): Job => ({
  id: `assess:${handoffId}`,
  kind: 'assess',
  payload: { accountId, handoffId },
  runAt: 0,
  attempts,
});

const model = (name: string) => () => createOpenAiProvider({ baseUrl: `${server}/v1`, model: name });

async function cardOf(user: TestUser, id: string) {
  return json<{ handoff: { ai_status: string; ai_error: string | null; ai_assessment: unknown } }>(
    await call(`/v1/handoffs/${id}/context`, user),
  );
}

describe('the assessment job with a model', () => {
  it('stores a model’s assessment as `llm` and publishes it through the outbox', async () => {
    const alice = await makeUser();
    const id = await pendingHandoff(alice);
    const { hub, published, completed, settle } = fakeHub(alice.acct);
    await escalationsModule(hub, { provider: model('ok') }).jobs?.assess?.run(job(alice.acct, id, 0));
    await settle();
    expect(completed).toEqual([`assess:${id}`]);
    expect(published.map((e) => e.type)).toEqual(['escalation.assessed']);
    const { handoff } = await cardOf(alice, id);
    expect(handoff).toMatchObject({
      ai_status: 'done',
      ai_assessment: { source: 'llm', provider: 'openai' },
    });
  });

  it('ends as failed at once on an error retrying cannot fix, quoting the provider', async () => {
    const alice = await makeUser();
    const id = await pendingHandoff(alice);
    const { hub, completed, settle } = fakeHub(alice.acct);
    await escalationsModule(hub, { provider: model('status-400') }).jobs?.assess?.run(job(alice.acct, id, 0));
    await settle();
    expect(completed).toEqual([`assess:${id}`]);
    const { handoff } = await cardOf(alice, id);
    expect(handoff.ai_status).toBe('failed');
    expect(handoff.ai_error).toMatch(/^assessment failed: .*simulated 400/);
  });

  it('retries a failing model, then ends as failed after the fourth attempt, never stuck in pending', async () => {
    const alice = await makeUser();
    const id = await pendingHandoff(alice);
    const { hub, completed, settle } = fakeHub(alice.acct);
    const module = escalationsModule(hub, { provider: model('status-503') });
    for (const attempts of [0, 1, 2]) {
      // A throw is the host's cue to retry the job later.
      await expect(module.jobs?.assess?.run(job(alice.acct, id, attempts))).rejects.toThrow(/simulated 503/);
      expect((await cardOf(alice, id)).handoff.ai_status).toBe('pending');
    }
    await module.jobs?.assess?.run(job(alice.acct, id, 3));
    await settle();
    expect(completed).toEqual([`assess:${id}`]);
    expect((await cardOf(alice, id)).handoff).toMatchObject({ ai_status: 'failed' });
  });
});
