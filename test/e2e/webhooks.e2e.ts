import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, demoTokens, screenshot, signedIn, siteUrl } from './helpers';

// The webhook admin pages against a real receiver on loopback (the stack allow-lists 127.0.0.1).

const tokens = await demoTokens();
let receiver: Server;
let base = '';
/** What the receiver answers next, per path; and what it got. */
const answers = new Map<string, number>();
const got: { path: string; headers: Record<string, string>; body: string }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      got.push({
        path,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const status = answers.get(path) ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'thanks' : 'receiver says no');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
});

describe('webhooks (admin)', () => {
  it('adds an endpoint (secret shown once, copied), tests it, reads the live log, disables and rotates', async () => {
    const path = `/hook/${Date.now()}`;
    const { context, page } = await signedIn('Ada Admin');
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: siteUrl() });
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    // A refused URL: the API's reason, shown as it is.
    await page.getByLabel('Endpoint URL').fill('http://10.0.0.8/hook');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'http is allowed only for hosts in WEBHOOK_ALLOW_HOSTS' })
      .waitFor();
    await page.getByLabel('Endpoint URL').fill(`${base}${path}`);
    await page.getByLabel('Name (optional)').fill('Ops receiver');
    // Every escalation event is ticked by default; take them off and add the run failures.
    // Regression: with them on, a card of another test re-escalating meanwhile was delivered here
    // too, and the log's first row was not the test's ping.
    await expect(page.getByLabel('picked up').isChecked()).resolves.toBe(true);
    await page.getByLabel('Every escalation event').uncheck();
    await page.getByLabel('failed', { exact: true }).check();
    await screenshot(page, '20-webhooks-add');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = (await page.getByTestId('secret').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await screenshot(page, '21-webhooks-secret-once');
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await expect(page.getByTestId('secret').count()).resolves.toBe(0);
    const row = page.locator('.webhook-rows li', { hasText: 'Ops receiver' });
    await row.getByText('Enabled').waitFor();
    await screenshot(page, '22-webhooks-list');

    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'Ops receiver' }).waitFor();
    await page.getByText('No deliveries yet.').waitFor();
    await page.getByRole('button', { name: 'Send a test' }).click();
    await page.getByText(/Test queued/).waitFor();
    // The live log shows it without a reload.
    const delivered = page.locator('table.deliveries tr[data-status="succeeded"]', { hasText: 'ping' });
    await delivered.first().waitFor({ timeout: 20_000 });
    await expect(delivered.first().textContent()).resolves.toMatch(/ping.*1.*Delivered.*200/);
    const ping = got.find((g) => g.path === path && g.body.includes('"type":"ping"'));
    if (!ping) throw new Error('the receiver got nothing');
    expect(new Webhook(secret).verify(ping.body, ping.headers)).toMatchObject({ type: 'ping' });

    // A receiver that fails: the attempt says it will retry, and when.
    answers.set(path, 500);
    await page.getByRole('button', { name: 'Send a test' }).click();
    // Attempt 1's row, the oldest: attempt 2 (5 s later, failing too) would land on top of it.
    const retrying = page.locator('table.deliveries tr[data-status="pending"]', { hasText: 'ping' }).last();
    await retrying.waitFor({ timeout: 20_000 });
    await expect(retrying.textContent()).resolves.toMatch(/Will retry.*500.*(in \d+ s|due now)/);
    await retrying.getByText('HTTP 500').click();
    await retrying.getByText('receiver says no').waitFor();
    await screenshot(page, '23-webhook-log');

    await page.getByRole('button', { name: 'Disable' }).click();
    await page.locator('.page-head .endpoint-state', { hasText: 'Disabled by an admin' }).waitFor();
    await page.getByRole('button', { name: 'Rotate secret…' }).click();
    await page.getByRole('button', { name: 'Rotate now' }).click();
    const rotated = (await page.getByTestId('secret').textContent()) ?? '';
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await page.getByText(/Signed with the new and the old secret until/).waitFor();
    await screenshot(page, '24-webhook-disabled-rotated');
    await page.getByRole('button', { name: 'I have stored it' }).click();

    // Events: narrow them down and save.
    await page.getByText('Change events').click();
    await page.getByLabel('Every escalation event').uncheck();
    await page.locator('details.panel').getByLabel('created').check();
    await page.getByRole('button', { name: 'Save events' }).click();
    await page.getByText('Events saved.').waitFor();
    await page.getByText(/events escalation.created|events run.failed, escalation.created/).waitFor();

    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('button', { name: 'Delete now' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await expect(page.locator('.webhook-rows li', { hasText: 'Ops receiver' }).count()).resolves.toBe(0);
    answers.delete(path);
    await context.close();
  });

  it('a receiver that answers 410 is shown as disabled by it', async () => {
    const path = `/gone/${Date.now()}`;
    answers.set(path, 410);
    const ada = as(tokens['Ada Admin']);
    const e = await ada.post<{ id: string }>('/v1/webhooks', {
      url: `${base}${path}`,
      events: ['escalation.created'],
      description: 'Retired receiver',
    });
    await as(tokens['Alice Engineer']).escalate({ title: 'Goes to a retired receiver' });
    const { context, page } = await signedIn('Ada Admin');
    await page.goto(`${siteUrl()}/#/webhooks/${e.id}`);
    await page.getByText('Disabled: the receiver answered 410 Gone').first().waitFor({ timeout: 20_000 });
    await page.locator('table.deliveries tr[data-status="failed"]').first().waitFor();
    await screenshot(page, '25-webhook-gone');
    await context.close();
  });

  it('engineers see no webhooks link, and the page says why', async () => {
    const { context, page } = await signedIn('Bob Engineer');
    await expect(page.getByRole('link', { name: 'Webhooks' }).count()).resolves.toBe(0);
    await page.goto(`${siteUrl()}/#/webhooks`);
    await page.getByText('Webhooks are managed by admins of the account.').waitFor();
    await context.close();
  });
});
