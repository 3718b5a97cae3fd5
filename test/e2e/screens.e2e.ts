import { describe, expect, it } from 'vitest';
import {
  as,
  browser,
  connection,
  demoTokens,
  policyViolations,
  screenshot,
  signedIn,
  siteUrl,
} from './helpers';

const tokens = await demoTokens();

describe('other screens', () => {
  it('metrics: time to pick-up as a chart, counts by status and severity (admin)', async () => {
    const alice = as(tokens['Alice Engineer']);
    const card = await alice.escalate({ title: 'For the metrics', severity: 'urgent' });
    await as(tokens['Bob Engineer']).post(`/v1/handoffs/${card.id}/pickup`);
    const { context, page } = await signedIn('Ada Admin');
    await page.getByRole('link', { name: 'Metrics' }).click();
    await page.getByRole('heading', { name: 'Time to pick-up' }).waitFor();
    const pickupChart = page.locator('figure[data-chart="pickup-chart"]');
    await pickupChart.locator('svg circle.point').first().waitFor();
    await expect(pickupChart.locator('path.median').getAttribute('d')).resolves.toMatch(/^M/);
    expect(Number(await page.getByTestId('total').textContent())).toBeGreaterThan(0);
    await expect(page.locator('tr[data-key="urgent"] .num').textContent()).resolves.not.toBe('0');
    await expect(page.locator('tr[data-key="picked_up"] .num').textContent()).resolves.not.toBe('0');
    await screenshot(page, '12-metrics');
    // A week with a day without a pick-up: the line breaks there (the answer made up here).
    const day = (ago: number) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);
    const perDay = [6, 5, 4, 2, 1, 0].map((ago, i) => ({
      date: day(ago),
      created: 4 + i,
      picked_up: ago === 4 ? 0 : 3,
      median_seconds: ago === 4 ? null : 40 + i * 35,
      p90_seconds: ago === 4 ? null : 120 + i * 60,
    }));
    // The answer's SLA part (the metrics of "When nobody picks up"), for the mocked week.
    const figures = (handoffs: number) => ({
      handoffs,
      pickup_attainment: 0.8,
      resolve_attainment: 0.9,
      pickup_breaches: 2,
      resolve_breaches: 1,
      reescalations: 3,
      time_to_resolve_seconds: { count: handoffs, median: 1_800, p90: 7_200 },
    });
    const bySeverity = { low: figures(4), normal: figures(14), high: figures(9), urgent: figures(3) };
    await page.route('**/v1/escalations/metrics?*', (route) =>
      route.fulfill({
        json: {
          from: day(6),
          to: day(-1),
          totals: {
            total: 30,
            by_status: { open: 5, picked_up: 10, resolved: 12, cancelled: 3 },
            by_severity: { low: 4, normal: 14, high: 9, urgent: 3 },
          },
          time_to_pickup_seconds: { count: 15, median: 95, p90: 330 },
          per_day: perDay,
          tz: 'UTC',
          time_to_resolve_seconds: { count: 12, median: 1_800, p90: 7_200 },
          sla: { overall: figures(30), by_severity: bySeverity, per_day: [] },
        },
      }),
    );
    await page.getByText('30 days').click();
    await page.getByTestId('total').filter({ hasText: /^30$/ }).waitFor();
    const median = (await pickupChart.locator('path.median').getAttribute('d')) ?? '';
    // Two runs of line, broken at the day without a pick-up.
    expect(median.match(/M/g)).toHaveLength(2);
    expect(median.match(/L/g)).toHaveLength(3);
    await expect(pickupChart.locator('circle.point').count()).resolves.toBe(5);
    await screenshot(page, '12b-metrics-week');
    await context.close();
  });

  it('engineers see no metrics link, and the page says why', async () => {
    const { context, page } = await signedIn('Bob Engineer');
    await expect(page.getByRole('link', { name: 'Metrics' }).count()).resolves.toBe(0);
    await page.goto(`${siteUrl()}/#/metrics`);
    await page.getByText('Metrics are for admins of the account.').waitFor();
    await context.close();
  });

  it('a narrow screen: nothing overflows sideways', async () => {
    const { context, page } = await signedIn('Bob Engineer', {
      viewport: { width: 375, height: 740 },
      isMobile: true,
    });
    await connection(page, 'live');
    // The cards themselves, not the skeletons shown until the first page is in (they have no id).
    const firstCard = page.locator('ul.cards > li.card[data-id]').first();
    await firstCard.waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, '13-queue-narrow', { fullPage: false });
    const first = await firstCard.getAttribute('data-id');
    await page.goto(`${siteUrl()}/#/handoffs/${first}`);
    await page.getByRole('heading', { name: 'Start here' }).waitFor();
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
    ).toBeLessThanOrEqual(0);
    await screenshot(page, '14-handoff-narrow');
    await context.close();
  });

  it('sessions: open one, record a step, escalate it from the site', async () => {
    const { context, page } = await signedIn('Alice Engineer');
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByText('Open a new session').click();
    await page.getByLabel('Title').fill('Mail bounces');
    await page.getByLabel('Problem summary').fill('Outbound mail to one domain bounces with 550.');
    await page.getByRole('button', { name: 'Open session' }).click();
    await page.getByRole('heading', { name: 'Mail bounces' }).waitFor();
    await page.getByLabel('What did you try?').fill('Checked SPF record');
    await page.getByRole('button', { name: 'Record step' }).click();
    await page.locator('.steps', { hasText: 'Checked SPF record' }).waitFor();
    await page.getByLabel('Why are you stuck?').fill('Need DNS access');
    await page.getByLabel('Severity').selectOption('high');
    await page.getByRole('button', { name: 'Escalate' }).click();
    await page.getByText('Escalated: it is in every engineer’s queue now.').waitFor();
    await screenshot(page, '15-session-escalated');
    await page.getByRole('link', { name: 'Queue' }).click();
    await page.locator('li.card', { hasText: 'Mail bounces' }).waitFor();
    await context.close();
  });

  it('serves the site with its security headers, and a CSP violation would be caught', async () => {
    const context = await browser().newContext();
    const page = await context.newPage();
    const res = await page.goto(siteUrl());
    const headers = res?.headers() ?? {};
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    const script = page.waitForResponse((r) => r.url().includes('/assets/') && r.url().endsWith('.js'));
    await page.reload();
    expect((await script).headers()['x-content-type-options']).toBe('nosniff');
    // The watcher is live: an inline script, which the policy refuses, is reported.
    const before = policyViolations.length;
    await page.evaluate(() => {
      const el = document.createElement('script');
      el.textContent = 'window.injected = true';
      document.body.append(el);
    });
    await expect.poll(() => policyViolations.length, { timeout: 5_000 }).toBeGreaterThan(before);
    expect(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).toBeUndefined();
    // Expected here, so not held against the site.
    policyViolations.splice(before);
    await context.close();
  });
});
