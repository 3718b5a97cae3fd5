import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_GRAPH } from '../../web/src/lib/example-graph';
import { as, demoTokens, network, screenshot, signedIn, siteUrl, waitPhase } from './helpers';

const tokens = await demoTokens();

const node = (page: Page, id: string) => page.locator(`li.node[data-node="${id}"]`);

/** Opens the runs screen, adding the example graph when there is none, and starts a run of it. */
async function startExampleRun(page: Page): Promise<string> {
  await page.goto(`${siteUrl()}/#/runs`);
  await page.getByRole('heading', { name: 'Graphs' }).waitFor();
  const add = page.getByRole('button', { name: 'Add an example graph' });
  const graph = page.locator('li.graph[data-graph="Triage a product question"]').first();
  await add.or(page.locator('li.graph').first()).first().waitFor();
  if (await add.isVisible()) await add.click();
  else if ((await graph.count()) === 0) {
    // Other tests stored graphs of their own, so the empty state (and its button) is gone.
    await as(tokens['Alice Engineer']).post('/v1/graphs', EXAMPLE_GRAPH);
    await page.reload();
  }
  await graph.waitFor();
  await graph.getByRole('button', { name: 'Start a run' }).click();
  await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
  return page.url().split('/').pop() as string;
}

describe('runs', () => {
  it('a run with a human_input node pauses, is resumed from the form, and completes', async () => {
    const { context, page } = await signedIn('Alice Engineer');
    const runId = await startExampleRun(page);
    await waitPhase(page, 'Waiting for input');
    await expect(node(page, 'ask').getAttribute('data-status')).resolves.toBe('paused');
    await expect(node(page, 'answer').getAttribute('data-status')).resolves.toBe('waiting');
    const form = page.getByRole('region', { name: /Input needed at ask/ });
    await form.getByLabel('Which product is the customer asking about?').waitFor();
    await screenshot(page, '09-run-paused');
    // JSON mode explains a mistake; text mode sends what was typed.
    await form.getByText('JSON', { exact: true }).click();
    await form.getByLabel('Which product is the customer asking about?').fill('{vpn');
    await form.getByRole('button', { name: 'Resume' }).click();
    await form.getByText(/Not valid JSON/).waitFor();
    await form.getByText('Text', { exact: true }).click();
    await form.getByLabel('Which product is the customer asking about?').fill('vpn');
    await form.getByRole('button', { name: 'Resume' }).click();
    await waitPhase(page, 'Completed');
    for (const id of ['ask', 'triage', 'answer']) {
      await expect(node(page, id).getAttribute('data-status')).resolves.toBe('done');
    }
    // The state each node set is shown beside it.
    await expect(node(page, 'ask').locator('.node-changed').textContent()).resolves.toBe('product"vpn"');
    await expect(node(page, 'triage').locator('.node-changed').textContent()).resolves.toContain(
      'queue"support-vpn"',
    );
    const finalState = JSON.parse((await page.getByTestId('final-state').textContent()) ?? '{}') as Record<
      string,
      unknown
    >;
    expect(finalState).toMatchObject({ product: 'vpn', triaged: true, queue: 'support-vpn' });
    expect(typeof finalState.answer).toBe('string');
    await page.locator('details.panel summary', { hasText: 'Event log' }).click();
    await screenshot(page, '10-run-completed');
    const status = await as(tokens['Alice Engineer']).get<{ status: string }>(`/v1/runs/${runId}/status`);
    expect(status.status).toBe('completed');
    await context.close();
  });

  it('a reconnect resumes where it was: nothing missed, nothing repeated', async () => {
    const { context, page } = await signedIn('Alice Engineer');
    const runId = await startExampleRun(page);
    await waitPhase(page, 'Waiting for input');
    // The connection drops, and the run moves on while the page cannot hear it.
    await network.refuse(true);
    await network.cut();
    await page.locator('.run .connection[data-state="reconnecting"]').waitFor({ timeout: 5_000 });
    await as(tokens['Alice Engineer']).post(`/v1/runs/${runId}/resume`, { input: 'dns' });
    await page.waitForTimeout(500);
    await network.refuse(false);
    await waitPhase(page, 'Completed', 40_000);
    const log = await page.locator('ol.log li').allTextContents();
    expect(log.filter((l) => l === 'run started')).toHaveLength(1);
    expect(log.filter((l) => l.startsWith('ask started'))).toHaveLength(1);
    expect(log.filter((l) => l.startsWith('resumed at ask'))).toHaveLength(1);
    expect(log.at(-1)).toMatch(/^completed in/);
    expect(new Set(log).size).toBe(log.length);
    await context.close();
  });

  // Regression: CI's cut once hit the page's first read of the run's status, still in flight; the
  // read failed for good and the page showed only "could not be reached" while its stream was live.
  it('a read of the run cut by the network is asked again, and the page shows the run', async () => {
    const { context, page } = await signedIn('Alice Engineer');
    let cut = 0;
    await page.route(/\/v1\/runs\/[0-9a-f-]{36}\/status$/, (route) =>
      cut++ < 2 ? route.abort('connectionreset') : route.continue(),
    );
    await startExampleRun(page);
    await waitPhase(page, 'Waiting for input');
    await page.getByRole('heading', { name: 'Triage a product question' }).waitFor();
    expect(cut).toBeGreaterThan(2);
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
    await context.close();
  });

  it('a read that failed for want of a network is asked again when the browser is back online', async () => {
    const { context, page } = await signedIn('Alice Engineer');
    const runId = await startExampleRun(page);
    await waitPhase(page, 'Waiting for input');
    await page.goto(`${siteUrl()}/#/runs`);
    await page.getByRole('heading', { name: 'Graphs' }).waitFor();
    await context.setOffline(true);
    await page.evaluate((id) => {
      location.hash = `#/runs/${id}`;
    }, runId);
    // Every attempt fails (about 4 to 8 s of backoff), then the failure is shown, with Try again.
    await page.getByRole('alert').getByRole('button', { name: 'Try again' }).waitFor({ timeout: 15_000 });
    await context.setOffline(false);
    await waitPhase(page, 'Waiting for input');
    await page.getByRole('heading', { name: 'Triage a product question' }).waitFor();
    await context.close();
  });

  it('cancel ends a paused run, and the runs list shows it', async () => {
    const { context, page } = await signedIn('Alice Engineer');
    const runId = await startExampleRun(page);
    await waitPhase(page, 'Waiting for input');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await waitPhase(page, 'Cancelled');
    await expect(page.getByRole('button', { name: 'Cancel run' }).count()).resolves.toBe(0);
    // The list reads Postgres, which the hub updates just after the event: allow it a moment.
    const status = page.locator(`a[href="#/runs/${runId}"] .run-status`);
    await page.goto(`${siteUrl()}/#/runs`);
    for (let i = 0; i < 20; i++) {
      if (i > 0) await page.reload();
      await status.waitFor();
      if ((await status.textContent()) === 'cancelled') break;
      await page.waitForTimeout(250);
    }
    await expect(status.textContent()).resolves.toBe('cancelled');
    await screenshot(page, '11-runs-list');
    await context.close();
  });
});
