import { describe, expect, it } from 'vitest';
import type { EscalationCard } from '../worker/contract/events';
import { call, colleague, createSession, expectError, json, makeUser, type TestUser } from './helpers';

// GET /v1/escalations on a busy day: several statuses and severities at once, a text search,
// counts per status for the filter, and cursor paging that keeps the filter.

interface Snapshot {
  items: EscalationCard[];
  next_cursor: string | null;
  counts: Record<EscalationCard['status'], number>;
}

const snapshot = async (user: TestUser, query: string) => {
  const res = await call(`/v1/escalations?${query}`, user);
  if (res.status !== 200) throw new Error(`${query}: ${res.status} ${await res.text()}`);
  return json<Snapshot>(res);
};

async function escalateWith(
  user: TestUser,
  session: { title: string; problem_summary: string; customer?: string },
  severity: EscalationCard['severity'],
): Promise<EscalationCard> {
  const { id } = await createSession(user, session);
  const res = await call(`/v1/sessions/${id}/handoffs`, user, {
    body: { intent: 'escalate', reason: 'stuck', severity },
  });
  if (res.status !== 201) throw new Error(`escalate: ${res.status} ${await res.text()}`);
  return json<EscalationCard>(res);
}

const act = async (user: TestUser, id: string, action: 'pickup' | 'resolve' | 'cancel') => {
  const res = await call(`/v1/handoffs/${id}/${action}`, user, { method: 'POST' });
  if (res.status !== 200) throw new Error(`${action}: ${res.status} ${await res.text()}`);
};

/** A small busy day: 8 cards in every status and severity, with searchable words. */
async function busyDay() {
  const alice = await makeUser({ name: 'Alice' });
  const bob = await colleague(alice, 'engineer', 'Bob');
  const cards = {
    vpnUrgent: await escalateWith(
      alice,
      { title: 'VPN drops', problem_summary: 'Tunnel drops hourly', customer: 'Acme' },
      'urgent',
    ),
    vpnLow: await escalateWith(
      alice,
      { title: 'vpn slow', problem_summary: 'Slow at night', customer: 'Globex' },
      'low',
    ),
    sso: await escalateWith(
      alice,
      { title: 'SSO loop', problem_summary: 'Login loops for Acme staff' },
      'high',
    ),
    billing: await escalateWith(
      alice,
      { title: 'Invoice twice', problem_summary: 'Charged 100% twice' },
      'normal',
    ),
    export: await escalateWith(
      alice,
      { title: 'Export_job stuck', problem_summary: 'CSV export never ends' },
      'high',
    ),
    dns: await escalateWith(alice, { title: 'DNS stale', problem_summary: 'Old records served' }, 'normal'),
    mail: await escalateWith(alice, { title: 'Mail bounces', problem_summary: 'Bounces from Acme' }, 'low'),
    api: await escalateWith(alice, { title: 'API 429s', problem_summary: 'Rate limited' }, 'urgent'),
  };
  await act(bob, cards.vpnUrgent.id, 'pickup');
  await act(bob, cards.sso.id, 'pickup');
  await act(bob, cards.sso.id, 'resolve');
  await act(alice, cards.billing.id, 'resolve');
  await act(alice, cards.dns.id, 'cancel');
  return { alice, bob, cards };
}

const ids = (s: Snapshot) => s.items.map((c) => c.id);

describe('the queue, filtered and paged on the server', () => {
  it('filters by several statuses and severities at once, either spelling, with counts per status', async () => {
    const { alice, cards } = await busyDay();
    const all = await snapshot(alice, 'limit=50');
    expect(all.items).toHaveLength(8);
    expect(all.counts).toEqual({ open: 4, picked_up: 1, resolved: 2, cancelled: 1 });

    const active = await snapshot(alice, 'status=open,picked_up');
    expect(active.items.every((c) => c.status === 'open' || c.status === 'picked_up')).toBe(true);
    expect(active.items).toHaveLength(5);
    // The counts ignore the status filter: they say what each status would list.
    expect(active.counts).toEqual(all.counts);
    expect(ids(await snapshot(alice, 'status=open&status=picked_up'))).toEqual(ids(active));

    const urgentOrHigh = await snapshot(alice, 'severity=urgent,high');
    expect(new Set(ids(urgentOrHigh))).toEqual(
      new Set([cards.vpnUrgent.id, cards.sso.id, cards.export.id, cards.api.id]),
    );
    expect(urgentOrHigh.counts).toEqual({ open: 2, picked_up: 1, resolved: 1, cancelled: 0 });

    const both = await snapshot(alice, 'status=open&severity=urgent,high');
    expect(new Set(ids(both))).toEqual(new Set([cards.export.id, cards.api.id]));
  });

  it('searches the title, summary and customer for every word, in any case, wildcards taken literally', async () => {
    const { alice, cards } = await busyDay();
    expect(new Set(ids(await snapshot(alice, 'q=VPN')))).toEqual(
      new Set([cards.vpnUrgent.id, cards.vpnLow.id]),
    );
    // "acme" is a customer of one card and in the summary of two others.
    expect(new Set(ids(await snapshot(alice, 'q=acme')))).toEqual(
      new Set([cards.vpnUrgent.id, cards.sso.id, cards.mail.id]),
    );
    // Every word must match, anywhere in the three fields.
    expect(ids(await snapshot(alice, `q=${encodeURIComponent('vpn  ACME')}`))).toEqual([cards.vpnUrgent.id]);
    // % and _ are text, not LIKE wildcards.
    expect(ids(await snapshot(alice, `q=${encodeURIComponent('100%')}`))).toEqual([cards.billing.id]);
    expect(ids(await snapshot(alice, `q=${encodeURIComponent('0%t')}`))).toEqual([]);
    expect(ids(await snapshot(alice, 'q=export_'))).toEqual([cards.export.id]);
    expect(ids(await snapshot(alice, 'q=p_rt'))).toEqual([]);
    const searched = await snapshot(alice, 'q=acme&status=open');
    expect(ids(searched)).toEqual([cards.mail.id]);
    expect(searched.counts).toEqual({ open: 1, picked_up: 1, resolved: 1, cancelled: 0 });
  });

  it('pages with a cursor that keeps the filter: every match once, newest first, then null', async () => {
    const { alice } = await busyDay();
    const expected = ids(await snapshot(alice, 'status=open,picked_up,resolved&limit=50'));
    expect(expected).toHaveLength(7);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Snapshot = await snapshot(
        alice,
        `status=open,picked_up,resolved&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...ids(page));
      expect(page.counts).toEqual({ open: 4, picked_up: 1, resolved: 2, cancelled: 1 });
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);
  });

  it('combines asking=me with the other filters, and counts only what asks the caller', async () => {
    const alice = await makeUser({ name: 'Alice' });
    const bob = await colleague(alice, 'engineer', 'Bob');
    await call('/v1/escalations', bob);
    const session = await createSession(alice, { title: 'Transfer me' });
    const res = await call(`/v1/sessions/${session.id}/handoffs`, alice, {
      body: { intent: 'transfer', reason: 'yours', severity: 'low', to_user_id: bob.sub },
    });
    const transfer = await json<EscalationCard>(res);
    await escalateWith(alice, { title: 'Not for Bob', problem_summary: 'x' }, 'low');
    const asking = await snapshot(bob, 'asking=me&severity=low');
    expect(ids(asking)).toEqual([transfer.id]);
    expect(asking.counts).toEqual({ open: 1, picked_up: 0, resolved: 0, cancelled: 0 });
    expect(ids(await snapshot(bob, 'asking=me&severity=high'))).toEqual([]);
  });

  it('refuses a value outside the lists, an empty or over-long search, naming the parameter', async () => {
    const alice = await makeUser();
    for (const [query, field] of [
      ['status=open,lost', 'status'],
      ['status=', 'status'],
      ['severity=critical', 'severity'],
      ['q=', 'q'],
      [`q=${'x'.repeat(201)}`, 'q'],
      ['asking=you', 'asking'],
    ] as const) {
      const error = await expectError(
        await call(`/v1/escalations?${query}`, alice),
        400,
        'validation_failed',
      );
      expect(JSON.stringify(error.details)).toContain(`"${field}"`);
    }
  });

  it('keeps other accounts out of the results and the counts', async () => {
    const { alice } = await busyDay();
    const stranger = await makeUser();
    await escalateWith(stranger, { title: 'VPN elsewhere', problem_summary: 'acme' }, 'urgent');
    const s = await snapshot(alice, 'q=vpn');
    expect(s.items.every((c) => c.session.title.toLowerCase().includes('vpn'))).toBe(true);
    expect(s.items).toHaveLength(2);
    expect(Object.values((await snapshot(stranger, 'limit=10')).counts).reduce((a, b) => a + b)).toBe(1);
  });
});
