import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { as, type DemoName, demoTokens, screenshot, signedIn, siteUrl, waitPhase } from './helpers';

const tokens = await demoTokens();

/**
 * check → (mode = "ok") answer (a streaming LLM node) → end; otherwise → broken, a tool that
 * always fails, retried once after 4 s. A run with `mode: "broken"` fails at `broken`; a rerun
 * from `check` with `{"mode": "ok"}` streams an answer.
 */
const diagramGraph = (name: string, wordMs: number) => ({
  name,
  schema: {
    entry: 'check',
    nodes: [
      { id: 'check', type: 'transform', set: { checked: true } },
      {
        id: 'broken',
        type: 'tool',
        tool: 'fail',
        args: { message: 'the upstream service is down' },
        // Long enough for the page to load and be read before attempt 2 (4 s was not, on a busy machine).
        retry: { max_attempts: 2, initial_interval_ms: 12_000 },
      },
      {
        id: 'answer',
        type: 'llm',
        prompt: `Explain to the customer why their {{topic}} connection keeps dropping [[fake:word_ms=${wordMs}]]`,
        output_key: 'answer',
        stream: true,
      },
    ],
    edges: [
      {
        from: 'check',
        branches: [{ when: { field_equals: { field: 'mode', value: 'ok' } }, to: 'answer' }],
        default: 'broken',
      },
      { from: 'answer', to: '__end__' },
    ],
  },
});

const diagramNode = (page: Page, id: string) => page.locator(`g.diagram-node[data-node="${id}"]`);

/** `wordMs`: the fake model's pause between streamed words. */
async function startRun(token: string, input: Record<string, unknown>, wordMs = 400) {
  const alice = as(token);
  const graph = await alice.post<{ id: string }>(
    '/v1/graphs',
    diagramGraph(`Diagram ${crypto.randomUUID().slice(0, 6)}`, wordMs),
  );
  return alice.post<{ run_id: string }>(`/v1/graphs/${graph.id}/run`, { input });
}

describe('the run drawn as a diagram', () => {
  it('shows a retry counting down on its node, the path taken, the state at a node, and reruns from there with a patch', async () => {
    const { context, page } = await signedIn('Alice Engineer');
    const run = await startRun(tokens['Alice Engineer'], { mode: 'broken', topic: 'VPN' });
    await page.goto(`${siteUrl()}/#/runs/${run.run_id}`);
    await page.getByTestId('run-diagram').waitFor();
    // The failing tool waits for its second attempt: the node says so, with a countdown.
    await diagramNode(page, 'broken')
      .and(page.locator('[data-status="retrying"]'))
      .waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('node-line-broken').textContent()).resolves.toMatch(
      /retry 2 of 2 in \d+ s/,
    );
    await diagramNode(page, 'broken').click();
    await expect(page.getByTestId('retry-countdown').textContent()).resolves.toContain(
      'Attempt 1 failed: node "broken" (tool fail) failed: failed: the upstream service is down',
    );
    await screenshot(page, '20-run-diagram-retrying');

    await waitPhase(page, 'Failed', 40_000);
    await expect(diagramNode(page, 'broken').getAttribute('data-status')).resolves.toBe('failed');
    await expect(diagramNode(page, 'answer').getAttribute('data-status')).resolves.toBe('waiting');
    await expect(
      page.locator('g.diagram-edge[data-edge="check->broken"]').getAttribute('data-taken'),
    ).resolves.toBe('true');
    await expect(
      page.locator('g.diagram-edge[data-edge="check->answer"]').getAttribute('data-taken'),
    ).resolves.toBe('false');
    // The state at a node, on click (or with the keyboard).
    await diagramNode(page, 'check').focus();
    await page.keyboard.press('Enter');
    const details = page.locator('[data-testid="node-details"][data-node="check"]');
    await details.waitFor();
    expect(JSON.parse((await details.getByTestId('state-before').textContent()) ?? '{}')).toEqual({
      mode: 'broken',
      topic: 'VPN',
    });
    expect(JSON.parse((await details.getByTestId('state-after').textContent()) ?? '{}')).toMatchObject({
      checked: true,
    });
    await details.getByRole('button', { name: 'Rerun from here…' }).click();
    const patch = details.getByLabel(/State patch/);
    await patch.fill('{"mode": ');
    await details.getByText(/Not valid JSON/).waitFor();
    await patch.fill('{"mode": "ok"}');
    await details.getByText('The state the rerun starts with').click();
    expect(JSON.parse((await details.getByTestId('rerun-preview').textContent()) ?? '{}')).toEqual({
      mode: 'ok',
      topic: 'VPN',
    });
    await screenshot(page, '21-run-diagram-rerun-form');
    await details.getByRole('button', { name: 'Rerun from check' }).click();

    // The rerun: a new run, which says where it came from, and streams the answer as it comes.
    await page.waitForURL((url) => url.hash.startsWith('#/runs/') && !url.hash.endsWith(run.run_id));
    const childId = page.url().split('/').pop() as string;
    await expect(page.getByTestId('run-parent').textContent()).resolves.toBe(
      `Rerun of ${run.run_id.slice(0, 8)} from check`,
    );
    const streamed = page.locator('[data-testid="streamed-text"][data-node="answer"]');
    await page.waitForFunction(
      () => {
        const el = document.querySelector('[data-testid="streamed-text"]');
        const node = document.querySelector('g.diagram-node[data-node="answer"]');
        return (
          (el?.textContent?.split(' ').length ?? 0) > 4 && node?.getAttribute('data-status') === 'running'
        );
      },
      undefined,
      { timeout: 15_000 },
    );
    await expect(diagramNode(page, 'answer').getAttribute('data-current')).resolves.toBe('true');
    await screenshot(page, '22-run-diagram-streaming');
    const early = (await streamed.textContent()) ?? '';
    await waitPhase(page, 'Completed', 40_000);
    const final = JSON.parse((await page.getByTestId('final-state').textContent()) ?? '{}') as {
      answer: string;
    };
    // The text grew as it came, and ends as the node's whole output.
    expect(final.answer.startsWith(early.trim())).toBe(true);
    await expect(streamed.textContent()).resolves.toBe(final.answer);
    await expect(page.locator('g.diagram-end').getAttribute('data-reached')).resolves.toBe('true');
    await expect(
      page.locator('g.diagram-edge[data-edge="answer->__end__"]').getAttribute('data-taken'),
    ).resolves.toBe('true');
    await screenshot(page, '23-run-diagram-completed');

    // The runs list: filtered by status and graph, the parent with its rerun.
    await page.goto(`${siteUrl()}/#/runs`);
    await page.getByLabel('Status').selectOption('failed');
    const parentRow = page.locator(`li[data-run="${run.run_id}"]`);
    // The filtered list itself: the unfiltered one stays shown while it loads, the parent in it.
    await page.waitForFunction((id) => {
      const rows = [...document.querySelectorAll('.runs-list > li')];
      return (
        rows.some((r) => r.getAttribute('data-run') === id) &&
        rows.every((r) => r.querySelector('.run-status')?.textContent === 'failed')
      );
    }, run.run_id);
    await expect(page.locator('.runs-list .run-status').allTextContents()).resolves.toEqual(
      expect.arrayContaining(['failed']),
    );
    expect(new Set(await page.locator('.runs-list .run-status').allTextContents())).toEqual(
      new Set(['failed']),
    );
    await parentRow.getByTestId('row-reruns').click();
    await page.getByTestId('parent-filter').waitFor();
    const childRow = page.locator(`li[data-run="${childId}"]`);
    await childRow.waitFor();
    await expect(childRow.getByTestId('row-parent').textContent()).resolves.toContain(
      `rerun of ${run.run_id.slice(0, 8)} from check`,
    );
    await expect(page.locator('.runs-list > li').count()).resolves.toBe(1);
    await screenshot(page, '24-runs-reruns-filter');
    await context.close();
  });

  it('pulses the running node, but not under reduced motion; a colleague may watch but not act', async () => {
    // Slow words, so the node is still running while two pages open.
    const run = await startRun(tokens['Alice Engineer'], { mode: 'ok', topic: 'DNS' }, 1_200);
    const animationOf = (page: Page) =>
      page.evaluate(() => {
        const rect = document.querySelector('g.diagram-node[data-node="answer"] rect');
        return rect ? getComputedStyle(rect).animationName : 'missing';
      });
    const open = async (who: DemoName, reducedMotion: 'reduce' | 'no-preference') => {
      const { context, page } = await signedIn(who, { reducedMotion });
      await page.goto(`${siteUrl()}/#/runs/${run.run_id}`);
      await page
        .locator('g.diagram-node[data-node="answer"][data-current="true"]')
        .waitFor({ timeout: 15_000 });
      return { context, page };
    };
    const moving = await open('Alice Engineer', 'no-preference');
    expect(await animationOf(moving.page)).toBe('node-pulse');
    const still = await open('Bob Engineer', 'reduce');
    expect(await animationOf(still.page)).toBe('none');
    // Bob sees the run live but it is Alice's: no cancel, and no rerun once it ends.
    await expect(still.page.getByRole('button', { name: 'Cancel run' }).count()).resolves.toBe(0);
    await waitPhase(still.page, 'Completed', 40_000);
    await diagramNode(still.page, 'check').click();
    await still.page.locator('[data-testid="node-details"][data-node="check"]').waitFor();
    await expect(still.page.getByRole('button', { name: 'Rerun from here…' }).count()).resolves.toBe(0);
    await waitPhase(moving.page, 'Completed');
    await diagramNode(moving.page, 'check').click();
    await moving.page.getByRole('button', { name: 'Rerun from here…' }).waitFor();
    await moving.context.close();
    await still.context.close();
  });
});
