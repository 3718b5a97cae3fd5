import type { Page, Request } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { EscalationCard } from '../../worker/contract/events';
import {
  as,
  browser,
  cardLocator,
  connection,
  demoTokens,
  network,
  screenshot,
  signedIn,
  siteUrl,
} from './helpers';

const tokens = await demoTokens();

/**
 * The reader scrolls the loaded queue to `y`. Regression: scrolling before the first page arrived
 * (on a loaded machine) moved only as far as the skeletons allowed, and the "reader scrolled down"
 * was still at the top, where a new card rightly pushes the list down.
 */
async function scrollDown(page: Page, y: number) {
  await page.locator('ul.cards > li.card[data-id]').nth(8).waitFor();
  await page.mouse.wheel(0, y - (await page.evaluate(() => window.scrollY)));
  // Within a pixel or two: scroll anchoring may move it by a card that changed above.
  await page.waitForFunction((to) => Math.abs(window.scrollY - to) < 2, y);
}

/** Every card id on the page, in order, as many times as it appears. */
const cardIds = (page: Page) =>
  page.locator('ul.cards > li.card[data-id]').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));

describe('escalation queue', () => {
  it('sign-in offers the demo users in dev mode', async () => {
    const context = await browser().newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    await page.goto(siteUrl());
    // The demo users come from GET /dev/tokens a moment after the screen.
    await page.getByRole('button', { name: /Alice Engineer/ }).waitFor();
    await page.getByRole('button', { name: /Ada Admin/ }).waitFor();
    await page.getByLabel('Bearer token (JWT)').waitFor();
    await screenshot(page, '01-sign-in');
    // A pasted token works too, and a bad one is explained.
    await page.getByLabel('Bearer token (JWT)').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('That is not a token').waitFor();
    await page.getByLabel('Bearer token (JWT)').fill(tokens['Bob Engineer']);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Escalation queue' }).waitFor();
    await expect(page.locator('header .who').textContent()).resolves.toContain('Bob Engineer');
    await context.close();
  });

  it('a handoff created through the API appears in an open queue without a reload', async () => {
    const { context, page } = await signedIn('Bob Engineer');
    await connection(page, 'live');
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 42;
    });
    const headerBox = await page.locator('header.top').boundingBox();
    const filterBox = await page.locator('.queue-filters').boundingBox();
    const card = await as(tokens['Alice Engineer']).escalate({
      title: 'Printer queue stuck',
      severity: 'urgent',
    });
    const el = cardLocator(page, card.id);
    await el.waitFor({ timeout: 5_000 });
    // No reload happened: the page's own state survived.
    await expect(page.evaluate(() => (window as unknown as { marker: number }).marker)).resolves.toBe(42);
    // Severity, age and status at a glance; it slid in (200 ms) as the newest card.
    await expect(el.locator('.severity').textContent()).resolves.toBe('urgent');
    await expect(el.locator('.card-age').textContent()).resolves.toMatch(/just now|s ago/);
    await expect(el.locator('.card-status').textContent()).resolves.toBe('Waiting for pick-up');
    await expect(el.getAttribute('class')).resolves.toContain('entering');
    const anim = await el.evaluate((e) => [
      getComputedStyle(e).animationName,
      getComputedStyle(e).animationDuration,
    ]);
    expect(anim).toEqual(['slide-in', '0.2s']);
    expect((await cardIds(page))[0]).toBe(card.id);
    // Nothing around the list moved.
    expect(await page.locator('header.top').boundingBox()).toEqual(headerBox);
    expect(await page.locator('.queue-filters').boundingBox()).toEqual(filterBox);
    await page.waitForTimeout(300);
    await screenshot(page, '02-queue-live');
    await context.close();
  });

  it('no animation under prefers-reduced-motion, and a reader scrolled down keeps their place', async () => {
    const alice = as(tokens['Alice Engineer']);
    for (let i = 0; i < 6; i++) await alice.escalate({ title: `Filler ${i}`, severity: 'low' });
    const { context, page } = await signedIn('Bob Engineer', {
      reducedMotion: 'reduce',
      viewport: { width: 1100, height: 600 },
    });
    await connection(page, 'live');
    await scrollDown(page, 700);
    const ids = await cardIds(page);
    const watched = page.locator(`li.card[data-id="${ids[4]}"]`);
    const before = await watched.boundingBox();
    const card = await alice.escalate({ title: 'Arrives while scrolled', severity: 'normal' });
    const el = cardLocator(page, card.id);
    await el.waitFor({ state: 'attached' });
    await expect(el.evaluate((e) => getComputedStyle(e).animationName)).resolves.toBe('none');
    await page.waitForTimeout(100);
    // Scroll anchoring: the card being read did not jump.
    expect(Math.abs(((await watched.boundingBox())?.y ?? 1e9) - (before?.y ?? 0))).toBeLessThan(1);
    await context.close();
  });

  it('pick up (the p key) shows the context with an assessment drawn from the steps; Start here opens the session', async () => {
    const { context, page } = await signedIn('Bob Engineer');
    await connection(page, 'live');
    const card = await as(tokens['Alice Engineer']).escalate({
      title: 'Checkout returns 502',
      reason: 'Payments gateway times out for EU customers only',
      severity: 'high',
      steps: [
        { action: 'Restarted the checkout pods', outcome: 'failed' },
        { action: 'Routed EU traffic to the US gateway', outcome: 'partial', notes: 'errors halved' },
      ],
    });
    await cardLocator(page, card.id).waitFor();
    // Keyboard: j to the new card (the newest, at the top), p to pick it up.
    await page.keyboard.press('j');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-id'))).resolves.toBe(card.id);
    await page.keyboard.press('p');
    await page.waitForURL(`**/#/handoffs/${card.id}`);
    await expect(page.getByTestId('problem-summary').textContent()).resolves.toContain('VPN tunnel drops');
    await expect(page.locator('.tried').textContent()).resolves.toContain('Restarted the checkout pods');
    await expect(page.getByTestId('handoff-status').textContent()).resolves.toBe('You picked it up');
    // No model is configured: the heuristic, labelled, from the steps.
    await page.getByTestId('ai-assessment').waitFor({ timeout: 10_000 });
    await expect(page.locator('#ai-heading').textContent()).resolves.toContain('heuristic, no model');
    await expect(page.getByTestId('ruled-out').textContent()).resolves.toContain(
      '“Restarted the checkout pods” was tried and did not help.',
    );
    await expect(page.getByTestId('start-here').textContent()).resolves.toBe(
      'Build on what partly worked: “Routed EU traffic to the US gateway” (errors halved).',
    );
    await screenshot(page, '04-handoff-assessed');
    await page.getByRole('link', { name: 'Open the session' }).click();
    await page.getByRole('heading', { name: 'Checkout returns 502' }).waitFor();
    await expect(page.locator('.steps').textContent()).resolves.toContain('Routed EU traffic');
    await screenshot(page, '05-session');
    await context.close();
  });

  it('someone else got it first: said plainly, with their name', async () => {
    const { context, page } = await signedIn('Bob Engineer');
    await connection(page, 'live');
    const card = await as(tokens['Alice Engineer']).escalate({ title: 'DNS flaps', severity: 'normal' });
    await cardLocator(page, card.id).waitFor();
    // Hold this page's stream so it does not hear about Ada's pick-up before Bob clicks.
    await page.route('**/v1/escalations/stream', (route) => route.abort());
    await network.cut();
    await as(tokens['Ada Admin']).post(`/v1/handoffs/${card.id}/pickup`);
    await cardLocator(page, card.id).getByRole('button', { name: 'Pick up' }).click();
    const notice = cardLocator(page, card.id).locator('.card-notice');
    await notice.waitFor();
    await expect(notice.textContent()).resolves.toBe(
      'Ada Admin got it first: this escalation is already picked up.',
    );
    await screenshot(page, '06-someone-else-got-it');
    await page.unroute('**/v1/escalations/stream');
    await connection(page, 'live', 40_000);
    // The replay after "live" brings the pick-up; it may land a moment after the connection.
    await cardLocator(page, card.id)
      .locator('.card-status', { hasText: /^Picked up by Ada Admin$/ })
      .waitFor({ timeout: 10_000 });
    await context.close();
  });

  it('cutting the stream mid-way recovers with no card lost or doubled', async () => {
    const { context, page } = await signedIn('Bob Engineer');
    await connection(page, 'live');
    const streamRequests: Request[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/v1/escalations/stream')) streamRequests.push(r);
    });
    const alice = as(tokens['Alice Engineer']);
    const created: EscalationCard[] = [];
    for (let i = 0; i < 2; i++) created.push(await alice.escalate({ title: `Before the cut ${i}` }));
    for (const c of created) await cardLocator(page, c.id).waitFor();

    // The network goes down mid-stream; escalations keep coming meanwhile.
    await network.refuse(true);
    expect(await network.cut()).toBeGreaterThan(0);
    await connection(page, 'reconnecting', 5_000);
    for (let i = 0; i < 3; i++) created.push(await alice.escalate({ title: `During the outage ${i}` }));
    await screenshot(page, '07-queue-reconnecting');
    await network.refuse(false);
    await connection(page, 'live', 40_000);
    for (const c of created) await cardLocator(page, c.id).waitFor({ timeout: 10_000 });

    // Cut again while events are in flight (creation, then assessments arrive).
    for (let round = 0; round < 3; round++) {
      created.push(await alice.escalate({ title: `Racing the cut ${round}` }));
      await network.cut();
    }
    created.push(await alice.escalate({ title: 'After the cuts' }));
    await connection(page, 'live', 40_000);
    for (const c of created) await cardLocator(page, c.id).waitFor({ timeout: 10_000 });
    // Assessments (later versions) reach the page too.
    await page.waitForFunction(
      (ids) => ids.every((id) => document.querySelector(`li.card[data-id="${id}"] [data-ai="done"]`)),
      created.map((c) => c.id),
      { timeout: 15_000 },
    );

    const ids = await cardIds(page);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of created) expect(ids.filter((id) => id === c.id)).toHaveLength(1);
    // It resumed by Last-Event-ID, not from scratch.
    const resumed = await Promise.all(streamRequests.map((r) => r.headerValue('last-event-id')));
    expect(resumed.length).toBeGreaterThanOrEqual(2);
    expect(resumed.every((v) => v !== null && Number(v) > 0)).toBe(true);
    await screenshot(page, '08-queue-recovered');
    await context.close();
  });

  it('a stream reset reads the queue again in place: a reader scrolled down keeps their place', async () => {
    // Regression: on `reset` the queue swapped every card for three skeletons while it read the
    // first page again; the page shrank and the reader was thrown back towards the top.
    const alice = as(tokens['Alice Engineer']);
    // More active cards than one page (25), so that the reader can hold more than the first page.
    const { counts } = await alice.get<{ counts: Record<string, number> }>('/v1/escalations?limit=1');
    const ada = as(tokens['Ada Admin']);
    for (let i = (counts.open ?? 0) + (counts.picked_up ?? 0); i < 30; i++)
      await ada.escalate({ title: `Another page ${i}`, severity: 'low' });
    const { context, page } = await signedIn('Bob Engineer', {
      viewport: { width: 1100, height: 600 },
    });
    await connection(page, 'live');
    await page.getByRole('button', { name: /^Show \d+ more$/ }).click();
    await page.locator('ul.cards > li.card[data-id]').nth(25).waitFor();
    const held = (await cardIds(page)).length;
    await scrollDown(page, 700);
    const watched = page.locator(`li.card[data-id="${(await cardIds(page))[4]}"]`);
    const before = await watched.boundingBox();
    await page.evaluate(() => {
      const w = window as unknown as { skeletons: number };
      w.skeletons = 0;
      new MutationObserver((changes) => {
        for (const c of changes)
          for (const n of c.addedNodes)
            if (n instanceof Element && n.matches('.skeleton, .cards[aria-busy="true"]')) w.skeletons++;
      }).observe(document.body, { childList: true, subtree: true });
    });
    // The next connection names an event the hub never wrote, so the stream begins with `reset`.
    await page.route('**/v1/escalations/stream', (route) =>
      route.continue({ headers: { ...route.request().headers(), 'last-event-id': '999999999' } }),
    );
    /** The queue's reads of the list from its first card (no cursor), by the `limit` asked. */
    const firstReads: string[] = [];
    page.on('requestfinished', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/v1/escalations' && !url.searchParams.has('cursor'))
        firstReads.push(url.searchParams.get('limit') ?? '');
    });
    await network.refuse(true);
    expect(await network.cut()).toBeGreaterThan(0);
    await connection(page, 'reconnecting', 5_000);
    const during = await alice.escalate({ title: 'Arrives during the reset', severity: 'normal' });
    await network.refuse(false);
    await connection(page, 'live', 40_000);
    await cardLocator(page, during.id).waitFor({ state: 'attached', timeout: 10_000 });
    // The queue was read again from its first card, as many cards as the reader held (the feed's
    // own snapshot asks for 100, the "asking you" count for 1).
    await expect.poll(() => firstReads).toContain(String(held));
    await page.waitForFunction(() => !document.querySelector('ul.cards[aria-busy="true"]'));
    expect(await page.evaluate(() => (window as unknown as { skeletons: number }).skeletons)).toBe(0);
    expect(Math.abs(((await watched.boundingBox())?.y ?? 1e9) - (before?.y ?? 0))).toBeLessThan(1);
    const ids = await cardIds(page);
    expect(new Set(ids).size).toBe(ids.length);
    await context.close();
  });

  it('while the tab is hidden, the title counts new escalations', async () => {
    const { context, page } = await signedIn('Bob Engineer');
    await connection(page, 'live');
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const alice = as(tokens['Alice Engineer']);
    await alice.escalate({ title: 'Hidden tab 1' });
    await alice.escalate({ title: 'Hidden tab 2' });
    await page.waitForFunction(() => document.title.startsWith('(2) new escalations'), undefined, {
      timeout: 5_000,
    });
    // It flashes: the plain title comes back in turn.
    await page.waitForFunction(() => document.title === 'Queue · Switchboard', undefined, { timeout: 3_000 });
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await expect(page.title()).resolves.toBe('Queue · Switchboard');
    await page.waitForTimeout(1_200);
    await expect(page.title()).resolves.toBe('Queue · Switchboard');
    await context.close();
  });
});
