import { afterAll, describe, expect, it } from 'vitest';
import type { EscalationCard } from '../../worker/contract/events';
import { DEMO_USERS } from '../../worker/dev/demo-users';
import { DEFAULT_ESCALATION_POLICY, type EscalationPolicy } from '../../worker/escalations/policy';
import { as, cardLocator, connection, demoTokens, screenshot, signedIn, siteUrl } from './helpers';

// The second stage of the queue: SLA countdowns, "asking you", presence, the policy page. The
// stack's hub runs its real timers here: a policy with short windows for `low` makes a clock warn
// and breach, and a level ask Bob, within seconds.

const tokens = await demoTokens();
const bobId = DEMO_USERS.find((u) => u.name === 'Bob Engineer')?.id as string;

const restoreDefault = () => as(tokens['Ada Admin']).put('/v1/escalation-policy', DEFAULT_ESCALATION_POLICY);

afterAll(async () => {
  // The demo account is shared by every browser test: leave its policy as it was.
  await restoreDefault();
});

/** The default policy with `low` shortened: warn after 4 s, breach after 16 s, ask Bob after 10 s. */
function quickLow(): EscalationPolicy {
  const policy = structuredClone(DEFAULT_ESCALATION_POLICY);
  policy.warn_at = 0.25;
  policy.severities.low = {
    pickup_seconds: 16,
    resolve_seconds: 3_600,
    levels: [{ after_seconds: 10, notify: [bobId] }],
    repeat: 0,
  };
  return policy;
}

describe('when nobody picks up', () => {
  it('counts down on each card, then warns and breaches in words and an icon', async () => {
    await as(tokens['Ada Admin']).put('/v1/escalation-policy', quickLow());
    const { context, page } = await signedIn('Bob Engineer');
    await connection(page, 'live');
    const card = await as(tokens['Alice Engineer']).escalate({
      title: 'Badge printer offline',
      severity: 'low',
    });
    const el = cardLocator(page, card.id);
    const pickup = el.locator('.sla-clock[data-clock="pickup"]');
    await pickup.waitFor();
    await expect(pickup.textContent()).resolves.toMatch(/Pick-up (due in 0:\d\d|SLA at risk)/);
    await expect(el.locator('.sla-clock[data-clock="resolve"]').textContent()).resolves.toMatch(
      /Resolve due in (59|1:00):\d\d/,
    );
    await el.locator('.sla-clock[data-clock="pickup"][data-look="warning"]').waitFor({ timeout: 15_000 });
    await expect(pickup.textContent()).resolves.toMatch(/Pick-up SLA at risk: 0:\d\d left/);
    await expect(pickup.locator('.sla-icon').getAttribute('data-icon')).resolves.toBe('warning');
    await screenshot(page, '20-sla-warning');
    // The hub's breach timer fires, and the event reaches the card: the server's state, not only
    // the reader's clock. Regression: waiting on the clock's look alone (which turns at the due time
    // in the browser) then read the server's state a few hundred ms before its timer had written it.
    await page.waitForFunction(
      (id) => {
        const li = document.querySelector(`li.card[data-id="${id}"] .sla-clock[data-clock="pickup"]`);
        return (
          li?.getAttribute('data-state') === 'breached' &&
          li.getAttribute('data-look') === 'breached' &&
          /breached/.test(li.textContent ?? '')
        );
      },
      card.id,
      { timeout: 30_000 },
    );
    await expect(pickup.locator('.sla-icon').getAttribute('data-icon')).resolves.toBe('breach');
    const breached = await as(tokens['Bob Engineer']).get<{ handoff: EscalationCard }>(
      `/v1/handoffs/${card.id}/context`,
    );
    expect(breached.handoff.sla.pickup).toBe('breached');
    const anim = await pickup.locator('.sla-icon').evaluate((e) => getComputedStyle(e).animationName);
    expect(anim).toBe('sla-breach');
    await screenshot(page, '21-sla-breached');
    await context.close();
    // Under reduced motion nothing moves: the words and the icon say it all.
    const calm = await signedIn('Bob Engineer', { reducedMotion: 'reduce' });
    const icon = cardLocator(calm.page, card.id).locator('.sla-clock[data-clock="pickup"] .sla-icon');
    await icon.waitFor();
    await expect(icon.evaluate((e) => getComputedStyle(e).animationName)).resolves.toBe('none');
    await calm.context.close();
    await restoreDefault();
  });

  it('shows "asking you" on a transfer and when a level names the reader, with a filter', async () => {
    await as(tokens['Ada Admin']).put('/v1/escalation-policy', quickLow());
    const bob = await signedIn('Bob Engineer');
    await connection(bob.page, 'live');
    // Alice transfers a session to Bob from the site.
    const alice = await signedIn('Alice Engineer');
    const session = await as(tokens['Alice Engineer']).post<{ id: string }>('/v1/sessions', {
      title: 'SSO loop for one tenant',
      problem_summary: 'Users of one tenant bounce between the IdP and the app.',
    });
    await alice.page.goto(`${siteUrl()}/#/sessions/${session.id}`);
    await alice.page.getByLabel('Why are you stuck?').fill('Bob knows this IdP');
    await alice.page.getByLabel('Kind').selectOption('transfer');
    await alice.page.getByLabel('Offer it to').selectOption({ label: 'Bob Engineer (engineer)' });
    await alice.page.getByRole('button', { name: 'Escalate' }).click();
    await alice.page.getByText('Escalated: it is in every engineer’s queue now.').waitFor();
    const transferred = bob.page.locator('li.card', { hasText: 'SSO loop for one tenant' });
    await transferred.locator('.asking-badge').waitFor();
    await expect(transferred.locator('.asking-badge').textContent()).resolves.toContain('Asking you');
    // A low card asks everyone first; its level 1 (after 10 s, by the hub's timer) asks Bob.
    const card = await as(tokens['Alice Engineer']).escalate({
      title: 'Label printer jams',
      severity: 'low',
    });
    const levelled = cardLocator(bob.page, card.id);
    await levelled.waitFor();
    await levelled.locator('.asking-badge').waitFor({ timeout: 25_000 });
    await expect(levelled.locator('.card-level').textContent()).resolves.toContain('Re-escalated to level 1');
    await bob.page.getByRole('button', { name: /^Asking you/ }).click();
    await bob.page.locator('ul.cards > li.card[data-asking="me"]').first().waitFor();
    const shown = await bob.page
      .locator('ul.cards > li.card')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-asking')));
    expect(shown.length).toBeGreaterThanOrEqual(2);
    expect(shown.every((a) => a === 'me')).toBe(true);
    await expect(bob.page.getByTestId('asking-count').textContent()).resolves.toMatch(/^\d+$/);
    await screenshot(bob.page, '22-asking-you');
    // Alice is not asked by either (the demo week transferred another one to her).
    await alice.page.getByRole('link', { name: 'Queue' }).click();
    // The filtered list's own answer, then its cards (the counts line alone could be the old list's).
    const filtered = alice.page.waitForResponse((r) => {
      const url = new URL(r.url());
      return (
        url.pathname === '/v1/escalations' &&
        url.searchParams.get('asking') === 'me' &&
        url.searchParams.get('limit') !== '1'
      );
    });
    await alice.page.getByRole('button', { name: /^Asking you/ }).click();
    await alice.page.waitForURL(/asking=me/);
    await filtered;
    await alice.page.waitForFunction(() => !document.querySelector('ul.cards[aria-busy="true"]'));
    const asked = await alice.page
      .locator('ul.cards > li.card')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(asked).not.toContain(card.id);
    expect(await alice.page.locator('li.card', { hasText: 'SSO loop for one tenant' }).count()).toBe(0);
    await bob.context.close();
    await alice.context.close();
    await restoreDefault();
  });

  it('shows who is online in the header and who is viewing each card', async () => {
    const card = await as(tokens['Alice Engineer']).escalate({
      title: 'VPN certificate expired',
      severity: 'high',
    });
    const bob = await signedIn('Bob Engineer');
    await connection(bob.page, 'live');
    const alice = await signedIn('Alice Engineer');
    await connection(alice.page, 'live');
    const roster = bob.page.getByTestId('online-roster');
    await roster.locator('.avatar[title="Alice Engineer"]').waitFor();
    await expect(roster.textContent()).resolves.toContain('Bob Engineer (you)');
    // Alice opens the card: Bob's queue shows her on it.
    await alice.page.goto(`${siteUrl()}/#/handoffs/${card.id}`);
    await alice.page.getByRole('heading', { name: 'Timeline' }).waitFor();
    const viewing = cardLocator(bob.page, card.id).locator('.avatars');
    await viewing.waitFor();
    await expect(viewing.textContent()).resolves.toContain('Viewing now: Alice Engineer');
    await screenshot(bob.page, '23-presence');
    // Bob opens it too: each sees the other on the card's page.
    await bob.page.goto(`${siteUrl()}/#/handoffs/${card.id}`);
    await alice.page.locator('.page-head .avatars', { hasText: 'Bob Engineer' }).waitFor();
    await expect(alice.page.locator('.timeline-item').first().textContent()).resolves.toContain(
      'Alice Engineer escalated it (high)',
    );
    await screenshot(alice.page, '24-handoff-presence-timeline');
    // Alice leaves: she is gone from the roster once the Worker notices her stream is closed (at
    // its next keepalive write, within SSE_KEEPALIVE_MS).
    await alice.context.close();
    await bob.page.getByTestId('online-roster').locator('.avatar[title="Alice Engineer"]').waitFor({
      state: 'detached',
      timeout: 40_000,
    });
    await bob.context.close();
  });

  it('releases a picked-up card back to the queue and records it on the timeline', async () => {
    const card = await as(tokens['Alice Engineer']).escalate({
      title: 'Mailbox over quota',
      severity: 'normal',
    });
    await as(tokens['Bob Engineer']).post(`/v1/handoffs/${card.id}/pickup`);
    const { context, page } = await signedIn('Bob Engineer');
    await page.goto(`${siteUrl()}/#/handoffs/${card.id}`);
    await page.getByLabel('Why hand it back? (optional)').fill('Needs the Exchange team');
    await page.getByRole('button', { name: 'Release to the queue' }).click();
    await page.getByTestId('handoff-status').filter({ hasText: 'Waiting for pick-up' }).waitFor();
    await page.locator('.timeline-item[data-type="released"]').waitFor();
    await expect(page.locator('.timeline-item[data-type="released"]').textContent()).resolves.toContain(
      'Bob Engineer released it back to the queue: “Needs the Exchange team”',
    );
    await screenshot(page, '25-released-timeline');
    await context.close();
  });

  it('lets an admin edit the policy, with errors beside each bad field and the schedule in words', async () => {
    await restoreDefault();
    const { context, page } = await signedIn('Ada Admin');
    await page.getByRole('link', { name: 'Policy' }).click();
    await page.getByRole('heading', { name: 'Escalation policy' }).waitFor();
    const preview = page.getByTestId('policy-preview');
    await expect(preview.textContent()).resolves.toContain(
      'urgent: pick up within 5 min, resolve within 4 h (warn at 75%); ask everyone after 2 min, admins after 5 min, once more',
    );
    await screenshot(page, '26-policy');
    // Bad values: the server names each field, the form shows each message beside it.
    await page.getByLabel('Warn when this share of a window has passed (%)').fill('150');
    await page.locator('#urgent-pickup').fill('0');
    await page.locator('#high-resolve').fill('5');
    await page.locator('#high-resolve').locator('xpath=..').locator('select').selectOption('min');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText(/Not saved: 3 fields need fixing/).waitFor();
    for (const id of ['warn-at', 'urgent-pickup', 'high-resolve']) {
      await expect(page.locator(`#${id}`).getAttribute('aria-invalid')).resolves.toBe('true');
      await expect(page.locator(`#${id}-error`).textContent()).resolves.toMatch(/must be/);
    }
    await expect(page.locator('#high-resolve-error').textContent()).resolves.toContain(
      'at least pickup_seconds',
    );
    await screenshot(page, '27-policy-errors');
    // Fixed, and a level that asks Bob: the preview says it in words, and it saves.
    await page.getByLabel('Warn when this share of a window has passed (%)').fill('80');
    await page.locator('#urgent-pickup').fill('3');
    await page.locator('#high-resolve').fill('8');
    await page.locator('#high-resolve').locator('xpath=..').locator('select').selectOption('h');
    await page
      .locator('fieldset[data-severity="normal"]')
      .getByRole('button', { name: 'Add a level' })
      .click();
    await page.locator('#normal-level-0-notify').selectOption('users');
    await page.locator('fieldset[data-severity="normal"]').getByLabel('Bob Engineer').check();
    await expect(preview.textContent()).resolves.toContain(
      'normal: pick up within 1 h, resolve within 1 day (warn at 80%); ask Bob Engineer after 5 min',
    );
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText(/Saved as version \d+/).waitFor();
    const stored = await as(tokens['Ada Admin']).get<{ policy: EscalationPolicy }>('/v1/escalation-policy');
    expect(stored.policy.warn_at).toBe(0.8);
    expect(stored.policy.severities.urgent.pickup_seconds).toBe(180);
    expect(stored.policy.severities.normal.levels).toEqual([{ after_seconds: 300, notify: [bobId] }]);
    await screenshot(page, '28-policy-saved');
    await context.close();
    // Engineers read it, and cannot change it.
    const eng = await signedIn('Bob Engineer');
    await eng.page.getByRole('link', { name: 'Policy' }).click();
    await eng.page.getByText('Only admins can change the policy; this is what it does.').waitFor();
    await expect(eng.page.getByRole('button', { name: 'Save policy' }).count()).resolves.toBe(0);
    await eng.context.close();
    await restoreDefault();
  });
});
