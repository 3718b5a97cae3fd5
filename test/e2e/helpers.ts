import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core';
import { expect, inject } from 'vitest';
import type { EscalationCard } from '../../worker/contract/events';
import { DEMO_TEAM } from '../../worker/dev/demo-story';
import { signToken } from '../../worker/dev/sign-token';
import { E2E_JWT_SECRET, resultsDir, root } from './stack';

export const siteUrl = () => inject('siteUrl');
export const apiUrl = () => inject('apiUrl');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Content-Security-Policy violations seen by any page of this test file (the site must work under
 * its strict CSP): test/e2e/setup.ts fails the file when one is left here.
 */
export const policyViolations: string[] = [];

const VIOLATION = /Content Security Policy|securitypolicyviolation/i;

/** Records every CSP violation of the context's pages, as the browser reports it. */
async function watchPolicy(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`securitypolicyviolation: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}`),
    );
  });
  context.on('page', (page) =>
    page.on('console', (msg) => {
      if (msg.type() === 'error' && VIOLATION.test(msg.text()))
        policyViolations.push(`${page.url()}: ${msg.text()}`);
    }),
  );
}

let fileBrowser: Browser | undefined;

/**
 * This test file's Chromium, every context it opens watched for CSP violations. setup.ts launches
 * it before the file's tests and closes it after them, so that a file cannot forget either.
 */
export function browser(): Browser {
  if (!fileBrowser) throw new Error('no browser: test/e2e/setup.ts launches one before the tests');
  return fileBrowser;
}

export async function launchBrowser(): Promise<void> {
  const launched = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
  const newContext = launched.newContext.bind(launched);
  launched.newContext = async (options?: BrowserContextOptions) => {
    const context = await newContext(options);
    await watchPolicy(context);
    return context;
  };
  fileBrowser = launched;
}

export async function closeBrowser(): Promise<void> {
  await fileBrowser?.close();
  fileBrowser = undefined;
}

/** Cuts the browser's live connections (all of them, mid-response), or refuses new ones. */
export const network = {
  cut: async () => ((await (await fetch(`${inject('controlUrl')}/cut`)).json()) as { cut: number }).cut,
  refuse: async (on: boolean) => void (await fetch(`${inject('controlUrl')}/refuse?on=${on ? 1 : 0}`)),
};

const shots = join(resultsDir, 'screenshots');
/** Every screen the suite visits, saved for a person to look at. */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}) {
  mkdirSync(shots, { recursive: true });
  // From the top, so the sticky header is where a person would see it.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({
    path: join(shots, `${name}.png`),
    fullPage: opts.fullPage ?? true,
    animations: 'disabled',
  });
}

/**
 * A screen for README's tour: saved like every screenshot, and also into docs/screenshots/ when
 * UPDATE_TOUR_SCREENSHOTS=1 (`npm run screenshots`), so that ordinary runs leave the tree clean.
 * The viewport only, so the committed files stay small.
 */
export async function tourShot(page: Page, name: string) {
  await screenshot(page, `tour-${name}`, { fullPage: false });
  if (process.env.UPDATE_TOUR_SCREENSHOTS === '1') {
    const docs = join(root, 'docs/screenshots');
    mkdirSync(docs, { recursive: true });
    copyFileSync(join(shots, `tour-${name}.png`), join(docs, `${name}.png`));
  }
}

export type DemoName = 'Alice Engineer' | 'Bob Engineer' | 'Ada Admin';

/**
 * How long a test file's own setup may wait for the stack: files read their tokens at the top
 * (top-level await), where no hook timeout applies, so a stuck stack would hang the run.
 */
const SETUP_READ_MS = 120_000;

export type SeededPerson = 'alice' | 'bob' | 'ada';

/**
 * A fresh account with the demo week in it (POST /dev/seed), and tokens of its people: what a
 * new user sees, whatever the other browser tests did to the shared demo account.
 */
export async function seededAccount(): Promise<{ accountId: string; tokens: Record<SeededPerson, string> }> {
  const accountId = crypto.randomUUID();
  const res = await fetch(`${apiUrl()}/dev/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ account_id: accountId, tz: Intl.DateTimeFormat().resolvedOptions().timeZone }),
    signal: AbortSignal.timeout(SETUP_READ_MS),
  });
  expect(res.status).toBe(201);
  const people: SeededPerson[] = ['alice', 'bob', 'ada'];
  const tokens = Object.fromEntries(
    await Promise.all(
      people.map(async (p) => {
        const u = DEMO_TEAM[p];
        return [
          p,
          await signToken({ sub: u.id, acct: accountId, role: u.role, name: u.name }, E2E_JWT_SECRET),
        ];
      }),
    ),
  ) as Record<SeededPerson, string>;
  return { accountId, tokens };
}

/** A fresh browser context signed in with a pasted token (as anyone outside dev mode would). */
export function signedInWith(
  token: string,
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  return signedInThrough(options, async (page) => {
    await page.getByLabel('Bearer token (JWT)').fill(token);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  });
}

/** Tokens of the demo users, from the dev-only endpoint the sign-in screen uses. */
export async function demoTokens(): Promise<Record<DemoName, string>> {
  const res = await fetch(`${apiUrl()}/dev/tokens`, { signal: AbortSignal.timeout(SETUP_READ_MS) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { users: { name: DemoName; token: string }[] };
  return Object.fromEntries(body.users.map((u) => [u.name, u.token])) as Record<DemoName, string>;
}

/** The API as a demo user, straight to the Worker (not through the cuttable proxy). */
export function as(token: string) {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${apiUrl()}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  return {
    get: <T>(path: string) => call<T>('GET', path),
    post: <T>(path: string, body?: unknown) => call<T>('POST', path, body),
    put: <T>(path: string, body?: unknown) => call<T>('PUT', path, body),
    /** A session with steps, escalated: returns the card. */
    async escalate(
      opts: {
        title?: string;
        reason?: string;
        severity?: EscalationCard['severity'];
        steps?: { action: string; outcome: string; notes?: string }[];
      } = {},
    ) {
      const session = await call<{ id: string }>('POST', '/v1/sessions', {
        title: opts.title ?? 'VPN drops every five minutes',
        problem_summary: 'The customer’s VPN tunnel drops every five minutes since the 4.2 client update.',
        customer: 'Acme Corp',
      });
      for (const step of opts.steps ?? []) await call('POST', `/v1/sessions/${session.id}/steps`, step);
      return call<EscalationCard>('POST', `/v1/sessions/${session.id}/handoffs`, {
        intent: 'escalate',
        reason: opts.reason ?? 'Stuck after reinstalling the client',
        severity: opts.severity ?? 'high',
      });
    },
  };
}

/**
 * Contexts opened for signed-in users, closed after each test (setup.ts) even when it failed
 * midway: a page left open holds its streams and presence, and once failed the next test too.
 */
export const openContexts = new Set<BrowserContext>();

async function openContext(options: BrowserContextOptions): Promise<BrowserContext> {
  const context = await browser().newContext({ viewport: { width: 1100, height: 800 }, ...options });
  openContexts.add(context);
  context.once('close', () => openContexts.delete(context));
  return context;
}

/**
 * A fresh browser context on the sign-in screen, signed in by `signIn`: done once the queue, the
 * first screen after signing in, is shown.
 */
async function signedInThrough(
  options: BrowserContextOptions,
  signIn: (page: Page) => Promise<void>,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await openContext(options);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto(siteUrl());
  await signIn(page);
  await page.getByRole('heading', { name: 'Escalation queue' }).waitFor();
  return { context, page };
}

/** A fresh browser context signed in as a demo user through the sign-in screen. */
export function signedIn(
  who: DemoName,
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  return signedInThrough(options, (page) => page.getByRole('button', { name: new RegExp(who) }).click());
}

/** Waits until the header's connection badge says `state`. */
export async function connection(page: Page, state: string, timeout = 15_000) {
  await page.locator(`header .connection[data-state="${state}"]`).waitFor({ timeout });
}

export const cardLocator = (page: Page, id: string) => page.locator(`li.card[data-id="${id}"]`);

/** Until a run page says the run is in `text` ("Completed", "Waiting for input"…). */
export async function waitPhase(page: Page, text: string, timeout = 20_000) {
  await page.waitForFunction(
    (t) => document.querySelector('[data-testid="run-phase"]')?.textContent === t,
    text,
    { timeout },
  );
}
