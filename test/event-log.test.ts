import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { EventLog } from '../worker/hub/event-log';
import { hubFor } from '../worker/hub/hub-client';

const DAY = 86_400_000;

/** Runs `fn` against a fresh hub's real SQLite storage. */
const withLog = <T>(fn: (log: EventLog) => T) =>
  runInDurableObject(hubFor(env, crypto.randomUUID()), (_hub, state) => fn(new EventLog(state.storage.sql)));

describe('the hub event log', () => {
  it('retains at least the newest N events and at least D days, whichever keeps more', async () => {
    const now = Date.UTC(2026, 10, 21);
    const result = await withLog((log) => {
      // 30 events ten days old, then 5 from today.
      for (let i = 0; i < 30; i++) log.append('t', 'e', { i }, undefined, now - 10 * DAY);
      for (let i = 30; i < 35; i++) log.append('t', 'e', { i }, undefined, now);
      // Keep 7 days and 10 events: the 5 of today are young, and 5 of the old ones are among
      // the newest 10, so 10 stay; the 25 oldest go.
      const deleted = log.purge('t', 7 * DAY, 10, now);
      return { deleted, ids: log.eventsAfter('t').map((e) => e.id), last: log.lastId('t') };
    });
    expect(result.deleted).toBe(25);
    expect(result.ids).toEqual([26, 27, 28, 29, 30, 31, 32, 33, 34, 35]);
    expect(result.last).toBe(35);
  });

  it('keeps young events even beyond the newest N', async () => {
    const now = Date.UTC(2026, 10, 21);
    const kept = await withLog((log) => {
      for (let i = 0; i < 50; i++) log.append('t', 'e', { i }, undefined, now - DAY);
      log.purge('t', 7 * DAY, 10, now);
      return log.eventsAfter('t').length;
    });
    expect(kept).toBe(50);
  });

  it('never reuses an id after a purge, and resets a subscriber behind the purge', async () => {
    const now = Date.UTC(2026, 10, 21);
    const r = await withLog((log) => {
      for (let i = 0; i < 20; i++) log.append('t', 'e', { i }, undefined, now - 30 * DAY);
      log.purge('t', 7 * DAY, 5, now);
      const next = log.append('t', 'e', { i: 20 }, undefined, now);
      return {
        next: next.id,
        behind: log.resumePoint('t', 3),
        ahead: log.resumePoint('t', 99),
        ok: log.resumePoint('t', 15),
      };
    });
    expect(r.next).toBe(21);
    expect(r.behind).toMatchObject({ kind: 'reset', reason: 'too_old', lastId: 21 });
    expect(r.ahead).toMatchObject({ kind: 'reset', reason: 'unknown' });
    expect(r.ok).toEqual({ kind: 'ok' });
  });

  it('logs a de-duplication key once and answers a repeat with the original id', async () => {
    const r = await withLog((log) => {
      const a = log.append('t', 'e', { n: 1 }, 'outbox-1');
      const b = log.append('t', 'e', { n: 2 }, 'outbox-1');
      return { a, b, count: log.eventsAfter('t').length };
    });
    expect(r.a.duplicate).toBe(false);
    expect(r.b).toMatchObject({ id: r.a.id, duplicate: true });
    expect(r.count).toBe(1);
  });

  it('pages a replay by size, always at least one whole frame', async () => {
    const pages = await withLog((log) => {
      for (let i = 0; i < 10; i++) log.append('t', 'e', { pad: 'x'.repeat(100) });
      const out = [];
      let after = 0;
      for (;;) {
        const page = log.page('t', after, 250);
        out.push(page);
        after = page.lastId;
        if (page.done) break;
      }
      return out.map((p) => ({
        frames: p.text.split('\n\n').filter(Boolean).length,
        lastId: p.lastId,
        done: p.done,
      }));
    });
    expect(pages.every((p) => p.frames >= 1)).toBe(true);
    expect(pages.reduce((n, p) => n + p.frames, 0)).toBe(10);
    expect(pages.at(-1)).toMatchObject({ lastId: 10, done: true });
  });
});
