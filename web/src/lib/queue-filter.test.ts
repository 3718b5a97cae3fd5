import { describe, expect, it } from 'vitest';
import {
  apiQuery,
  DEFAULT_FILTER,
  describeFilter,
  filterFromQuery,
  filterToQuery,
  matches,
  toggle,
} from './queue-filter';
import { card } from './test-cards';

const bob = { userId: 'bob', role: 'engineer' as const };
const ada = { userId: 'ada', role: 'admin' as const };

describe('the queue filter', () => {
  it('reads and writes the URL: the default is no query; a round trip keeps everything', () => {
    expect(filterFromQuery('')).toEqual(DEFAULT_FILTER);
    expect(filterToQuery(DEFAULT_FILTER)).toBe('');
    const f = {
      statuses: ['open' as const],
      severities: ['high' as const, 'urgent' as const],
      asking: true,
      q: 'vpn acme',
    };
    const query = filterToQuery(f);
    expect(query).toBe('status=open&severity=high,urgent&asking=me&q=vpn+acme');
    expect(filterFromQuery(query)).toEqual(f);
    // Every status is "all", distinct from the default (open and picked up).
    const all = { ...DEFAULT_FILTER, statuses: [] };
    expect(filterToQuery(all)).toBe('status=all');
    expect(filterFromQuery('status=all')).toEqual(all);
  });

  it('ignores what a URL cannot mean, and orders values as the lists do', () => {
    expect(filterFromQuery('status=lost,resolved,open&severity=critical,urgent,low&asking=you&q=')).toEqual({
      statuses: ['open', 'resolved'],
      severities: ['low', 'urgent'],
      asking: false,
      q: '',
    });
    expect(filterFromQuery(`q=${'x'.repeat(500)}`).q).toHaveLength(200);
  });

  it('asks the server for only what narrows the list', () => {
    expect(apiQuery(DEFAULT_FILTER)).toEqual({ status: 'open,picked_up' });
    expect(apiQuery({ statuses: [], severities: [], asking: false, q: '  ' })).toEqual({});
    expect(
      apiQuery({
        statuses: ['open', 'picked_up', 'resolved', 'cancelled'],
        severities: ['low'],
        asking: true,
        q: ' dns ',
      }),
    ).toEqual({ severity: 'low', asking: 'me', q: 'dns' });
  });

  it('matches live cards by the server’s rules', () => {
    const c = card('a', 1, '2026-01-01T00:00:00Z', {
      severity: 'urgent',
      session: { title: 'VPN drops', problem_summary: 'Tunnel drops hourly', customer: 'Acme Corp' },
    });
    expect(matches(c, DEFAULT_FILTER, bob)).toBe(true);
    expect(matches({ ...c, status: 'resolved' }, DEFAULT_FILTER, bob)).toBe(false);
    expect(matches(c, { ...DEFAULT_FILTER, severities: ['low', 'high'] }, bob)).toBe(false);
    expect(matches(c, { ...DEFAULT_FILTER, q: 'acme VPN' }, bob)).toBe(true);
    expect(matches(c, { ...DEFAULT_FILTER, q: 'acme dns' }, bob)).toBe(false);
    // Asking you: an open card whose notify names you, or admins if you are one.
    expect(matches(c, { ...DEFAULT_FILTER, asking: true }, bob)).toBe(false);
    expect(matches({ ...c, notify: ['bob'] }, { ...DEFAULT_FILTER, asking: true }, bob)).toBe(true);
    expect(matches({ ...c, notify: 'admins' }, { ...DEFAULT_FILTER, asking: true }, ada)).toBe(true);
    expect(
      matches({ ...c, notify: 'admins', status: 'picked_up' }, { ...DEFAULT_FILTER, asking: true }, ada),
    ).toBe(false);
  });

  it('toggles a value in the list’s order, and says the filter in words', () => {
    expect(toggle(['urgent'], 'low', ['low', 'normal', 'high', 'urgent'])).toEqual(['low', 'urgent']);
    expect(toggle(['low', 'urgent'], 'low', ['low', 'normal', 'high', 'urgent'])).toEqual(['urgent']);
    expect(describeFilter(DEFAULT_FILTER)).toBe('waiting or picked up');
    expect(describeFilter({ statuses: [], severities: ['urgent'], asking: true, q: 'vpn' })).toBe(
      'any status, urgent, asking you, matching “vpn”',
    );
  });
});
