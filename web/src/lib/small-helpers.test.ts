import { describe, expect, it } from 'vitest';
import { readToken } from './auth';
import { daysBetween, niceTicks } from './chart-scale';
import { formatAge, formatSeconds } from './format';
import { parseResumeInput } from './resume-input';
import { TitleFlasher, type TitleHost } from './title-flash';

const b64url = (o: unknown) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(o))))
    .replace(/=+$/, '')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
const jwt = (claims: Record<string, unknown>) => `${b64url({ alg: 'HS256' })}.${b64url(claims)}.sig`;

describe('readToken', () => {
  const claims = { sub: 'u', acct: 'a', role: 'engineer', name: 'Zoë Ångström', exp: 2_000_000_000 };
  it('reads the claims (UTF-8 names too) and accepts a pasted "Bearer " prefix', () => {
    const r = readToken(`  Bearer ${jwt(claims)}\n`, 0);
    expect(r).toMatchObject({
      ok: true,
      session: { userId: 'u', accountId: 'a', role: 'engineer', name: 'Zoë Ångström' },
    });
  });
  it('says what is wrong', () => {
    expect(readToken('nope')).toMatchObject({ ok: false });
    expect(readToken(jwt({ ...claims, role: 'root' }), 0)).toMatchObject({
      ok: false,
      error: expect.stringContaining('role'),
    });
    expect(readToken(jwt({ ...claims, exp: 1 }), 62_000)).toMatchObject({
      ok: false,
      error: expect.stringContaining('expired'),
    });
  });
  it('reads it as the server does: a minute of leeway on exp, any name, shown cleaned', () => {
    expect(readToken(jwt({ ...claims, exp: 1 }), 60_000)).toMatchObject({ ok: true });
    expect(readToken(jwt({ ...claims, name: 'Zoë\u0000 \u202eÅ' }), 0)).toMatchObject({
      ok: true,
      session: { name: 'Zoë Å' },
    });
    const { name: _name, ...nameless } = claims;
    expect(readToken(jwt(nameless), 0)).toMatchObject({ ok: true, session: { name: 'user u' } });
  });
});

describe('parseResumeInput', () => {
  it('text is sent as typed; JSON is parsed or explained', () => {
    expect(parseResumeInput(' vpn ', 'text')).toEqual({ ok: true, value: ' vpn ' });
    expect(parseResumeInput('{"a":[1]}', 'json')).toEqual({ ok: true, value: { a: [1] } });
    expect(parseResumeInput('{a:', 'json')).toMatchObject({
      ok: false,
      error: expect.stringContaining('JSON'),
    });
    expect(parseResumeInput('  ', 'json')).toMatchObject({ ok: false });
  });
});

describe('formatting', () => {
  it('ages and durations', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(formatAge('2026-01-01T11:59:55Z', now)).toBe('just now');
    expect(formatAge('2026-01-01T11:59:15Z', now)).toBe('45 s ago');
    expect(formatAge('2026-01-01T11:48:00Z', now)).toBe('12 min ago');
    expect(formatAge('2026-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatAge('2025-12-28T12:00:00Z', now)).toBe('4 d ago');
    expect(formatSeconds(null)).toBe('—');
    expect(formatSeconds(42.4)).toBe('42 s');
    expect(formatSeconds(0.24)).toBe('240 ms');
    expect(formatSeconds(2.54)).toBe('2.5 s');
    expect(formatSeconds(0)).toBe('0 s');
    expect(formatSeconds(210)).toBe('3.5 min');
  });
  it('chart ticks and days', () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(95)).toEqual([0, 50, 100]);
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(daysBetween('2026-02-27', '2026-03-02')).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
      '2026-03-02',
    ]);
  });
});

describe('TitleFlasher', () => {
  function host(hidden: boolean) {
    const listeners: (() => void)[] = [];
    const h = {
      title: 'Queue',
      hidden,
      addEventListener: (_: string, l: () => void) => listeners.push(l),
      removeEventListener: () => {},
      show() {
        h.hidden = false;
        for (const l of listeners) l();
      },
    };
    return h;
  }

  it('counts new escalations while hidden, flashes, and stops when shown', async () => {
    const h = host(true);
    const f = new TitleFlasher(h as TitleHost, 'Queue', 10);
    f.notify();
    f.notify();
    expect(h.title).toBe('(2) new escalations · Queue');
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      seen.add(h.title);
      await new Promise((r) => setTimeout(r, 7));
    }
    expect(seen).toEqual(new Set(['(2) new escalations · Queue', 'Queue']));
    h.show();
    expect(h.title).toBe('Queue');
    expect(f.pending).toBe(0);
    f.dispose();
  });

  it('does nothing while the tab is visible', () => {
    const h = host(false);
    const f = new TitleFlasher(h as TitleHost, 'Queue', 10);
    f.notify();
    expect(h.title).toBe('Queue');
    f.dispose();
  });
});
