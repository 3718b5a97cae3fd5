import { describe, expect, it } from 'vitest';
import type { EscalationCard } from '../../../worker/contract/events';
import { MAX_PAGE_LIMIT } from '../../../worker/contract/paging';
import { DEFAULT_FILTER, type QueueFilter } from './queue-filter';
import { type QueuePage, QueueView } from './queue-view';
import { card } from './test-cards';

const user = { userId: 'bob', role: 'engineer' as const };
const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
const counts = (open: number, picked_up = 0) => ({ open, picked_up, resolved: 0, cancelled: 0 });

/** A server over `all`, newest first, with the filter applied and cursor paging by index. */
function server(all: () => EscalationCard[]) {
  const calls: { filter: QueueFilter; cursor: string | null; limit: number }[] = [];
  let hold: Promise<void> | undefined;
  return {
    calls,
    holdNext(p: Promise<void>) {
      hold = p;
    },
    async load(filter: QueueFilter, cursor: string | null, limit: number): Promise<QueuePage> {
      calls.push({ filter, cursor, limit });
      const snapshot = all().filter((c) => !filter.statuses.length || filter.statuses.includes(c.status));
      const waiting = hold;
      hold = undefined;
      if (waiting) await waiting;
      const start = cursor ? Number(cursor) : 0;
      const items = snapshot.slice(start, start + limit);
      return {
        items,
        next_cursor: start + limit < snapshot.length ? String(start + limit) : null,
        counts: counts(
          all().filter((c) => c.status === 'open').length,
          all().filter((c) => c.status === 'picked_up').length,
        ),
      };
    },
  };
}

const ids = (v: QueueView) => v.state.get().cards.map((c) => c.id);

describe('the queue view', () => {
  it('pages with the server’s cursor and keeps every card once, newest first', async () => {
    const cards = Array.from({ length: 7 }, (_, i) => card(`c${i}`, 1, at(100 - i)));
    const s = server(() => cards);
    const view = new QueueView({ load: (...a) => s.load(...a), user, pageSize: 3 }, DEFAULT_FILTER);
    await view.reload();
    expect(ids(view)).toEqual(['c0', 'c1', 'c2']);
    expect(view.state.get().counts).toEqual(counts(7));
    await view.loadMore();
    await view.loadMore();
    expect(ids(view)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    expect(view.state.get().nextCursor).toBeNull();
    await view.loadMore();
    expect(s.calls.map((c) => c.cursor)).toEqual([null, '3', '6']);
  });

  it('merges live changes by version: one that stops matching leaves, one that starts matching arrives', async () => {
    const a = card('a', 1, at(3));
    const b = card('b', 1, at(2));
    const s = server(() => [a, b]);
    const view = new QueueView(
      { load: (...x) => s.load(...x), user, countsDelayMs: 5 },
      { ...DEFAULT_FILTER, statuses: ['open'] },
    );
    await view.reload();
    expect(ids(view)).toEqual(['a', 'b']);
    view.receive({ ...a, version: 3, status: 'picked_up' }, 'escalation.picked_up');
    expect(ids(view)).toEqual(['b']);
    // An older event of it changes nothing.
    view.receive({ ...a, version: 2 }, 'escalation.assessed');
    expect(ids(view)).toEqual(['b']);
    // Released: it matches again, in its place by age.
    view.receive({ ...a, version: 4, status: 'open' }, 'escalation.released');
    expect(ids(view)).toEqual(['a', 'b']);
    // A new card slides in at the top; a change to one held merges.
    const n = card('n', 1, at(9));
    view.receive(n, 'escalation.created');
    view.receive({ ...b, version: 2, ai_status: 'done' }, 'escalation.assessed');
    expect(ids(view)).toEqual(['n', 'a', 'b']);
    expect(view.state.get().cards[2]?.ai_status).toBe('done');
    // A card that never matched stays out.
    view.receive(card('x', 1, at(10), { status: 'resolved' }), 'escalation.created');
    expect(ids(view)).toEqual(['n', 'a', 'b']);
  });

  it('reads the counts again after changes that move them, once for a burst', async () => {
    let open = 1;
    const s = server(() => Array.from({ length: open }, (_, i) => card(`c${i}`, 1, at(i))));
    const view = new QueueView({ load: (...x) => s.load(...x), user, countsDelayMs: 5 }, DEFAULT_FILTER);
    await view.reload();
    open = 3;
    view.receive(card('c1', 1, at(1)), 'escalation.created');
    view.receive(card('c2', 1, at(2)), 'escalation.created');
    view.receive({ ...card('c2', 2, at(2)), ai_status: 'done' }, 'escalation.assessed');
    await new Promise((r) => setTimeout(r, 30));
    expect(s.calls.filter((c) => c.limit === 1)).toHaveLength(1);
    expect(view.state.get().counts).toEqual(counts(3));
  });

  it('reads the list again as long as the reader holds it, keeping the cards shown meanwhile', async () => {
    // Regression: a stream `reset` read only the first page again, and the page showed skeletons
    // meanwhile, so a reader scrolled down through pages they had loaded lost their place.
    let cards = Array.from({ length: 7 }, (_, i) => card(`c${i}`, 1, at(100 - i)));
    const s = server(() => cards);
    const view = new QueueView({ load: (...a) => s.load(...a), user, pageSize: 3 }, DEFAULT_FILTER);
    await view.reload();
    await view.loadMore();
    expect(ids(view)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);

    // c1 was resolved elsewhere while the stream was away; the reset reads the list again.
    cards = cards.filter((c) => c.id !== 'c1');
    let release = () => {};
    s.holdNext(new Promise((r) => (release = r)));
    const reloading = view.reload();
    expect(view.state.get()).toMatchObject({ loading: true });
    expect(ids(view)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
    release();
    await reloading;
    expect(s.calls.at(-1)).toMatchObject({ cursor: null, limit: 6 });
    expect(ids(view)).toEqual(['c0', 'c2', 'c3', 'c4', 'c5', 'c6']);
    expect(view.state.get()).toMatchObject({ loading: false, nextCursor: null });

    // A new filter starts from one page; more than the API answers at once is read in its pages.
    cards = Array.from({ length: 250 }, (_, i) => card(`m${i}`, 1, at(1000 - i)));
    await view.setFilter({ ...DEFAULT_FILTER, statuses: ['open'] });
    expect(s.calls.at(-1)?.limit).toBe(3);
    while (view.state.get().nextCursor) await view.loadMore();
    expect(ids(view)).toHaveLength(250);
    const before = s.calls.length;
    await view.reload();
    expect(s.calls.slice(before).map((c) => [c.cursor, c.limit])).toEqual([
      [null, MAX_PAGE_LIMIT],
      [String(MAX_PAGE_LIMIT), 250 - MAX_PAGE_LIMIT],
    ]);
    expect(ids(view)).toHaveLength(250);
  });

  it('an empty list read again stays read: no placeholders while the answer is on its way', async () => {
    // Regression: an empty queue showed skeletons again on every stream `reset`.
    const s = server(() => []);
    const view = new QueueView({ load: (...a) => s.load(...a), user }, DEFAULT_FILTER);
    expect(view.state.get()).toMatchObject({ unread: true, loading: true });
    await view.reload();
    expect(view.state.get()).toMatchObject({ unread: false, loading: false, cards: [] });
    let release = () => {};
    s.holdNext(new Promise((r) => (release = r)));
    const reloading = view.reload();
    expect(view.state.get()).toMatchObject({ unread: false, loading: true });
    release();
    await reloading;
    // Another filter has not been read yet.
    s.holdNext(new Promise((r) => (release = r)));
    const filtering = view.setFilter({ ...DEFAULT_FILTER, statuses: ['open'] });
    expect(view.state.get()).toMatchObject({ unread: true });
    release();
    await filtering;
    expect(view.state.get()).toMatchObject({ unread: false });
  });

  it('a card heard while the list is read again stays, and a "more" in flight then ends', async () => {
    // Regressions: the page's answer replaced the list, dropping a card created after the server
    // read it; and an older "more" answer, dropped, left `loadingMore` set, so "Show more" stuck.
    const cards = Array.from({ length: 5 }, (_, i) => card(`c${i}`, 1, at(100 - i)));
    const s = server(() => cards);
    const view = new QueueView({ load: (...a) => s.load(...a), user, pageSize: 2 }, DEFAULT_FILTER);
    await view.reload();
    let releaseMore = () => {};
    s.holdNext(new Promise((r) => (releaseMore = r)));
    const more = view.loadMore();
    expect(view.state.get().loadingMore).toBe(true);

    let releaseFirst = () => {};
    s.holdNext(new Promise((r) => (releaseFirst = r)));
    const reloading = view.reload();
    expect(view.state.get()).toMatchObject({ loading: true, loadingMore: false });
    // Nothing more is asked while the list is read from its first card.
    const calls = s.calls.length;
    await view.loadMore();
    expect(s.calls.length).toBe(calls);

    view.receive(card('new', 1, at(200)), 'escalation.created');
    releaseFirst();
    releaseMore();
    await Promise.all([reloading, more]);
    expect(ids(view)).toEqual(['new', 'c0', 'c1']);
    expect(view.state.get()).toMatchObject({ loading: false, loadingMore: false, nextCursor: '2' });
    await view.loadMore();
    expect(ids(view)).toEqual(['new', 'c0', 'c1', 'c2', 'c3']);
  });

  it('drops an answer for a filter the reader has left, and a stale page loses to what was heard live', async () => {
    const a = card('a', 1, at(1));
    const s = server(() => [a]);
    const view = new QueueView({ load: (...x) => s.load(...x), user }, DEFAULT_FILTER);
    let release = () => {};
    s.holdNext(new Promise((r) => (release = r)));
    const first = view.setFilter({ ...DEFAULT_FILTER, q: 'old' });
    const second = view.setFilter({ ...DEFAULT_FILTER, statuses: ['open'] });
    release();
    await Promise.all([first, second]);
    expect(view.state.get().filter.statuses).toEqual(['open']);
    expect(ids(view)).toEqual(['a']);

    // The page was read before the card was resolved; the stream said so first.
    s.holdNext(new Promise((r) => setTimeout(r, 10)));
    const reloading = view.reload();
    view.receive({ ...a, version: 2, status: 'resolved' }, 'escalation.resolved');
    await reloading;
    expect(ids(view)).toEqual([]);
  });

  it('says why a page failed, and keeps what it had', async () => {
    const view = new QueueView(
      {
        load: async () => {
          throw new Error('The server could not be reached');
        },
        user,
      },
      DEFAULT_FILTER,
    );
    await view.reload();
    expect(view.state.get()).toMatchObject({
      loading: false,
      unread: true,
      error: 'The server could not be reached',
      cards: [],
    });
  });
});
