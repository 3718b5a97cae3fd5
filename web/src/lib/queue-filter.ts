import type { EscalationCard } from '../../../worker/contract/events';
import { matchesSearch, searchWords } from '../../../worker/contract/queue-search';
import {
  ACTIVE_HANDOFF_STATUSES,
  HANDOFF_STATUSES,
  type HandoffStatus,
  type Role,
  SEVERITIES,
  type Severity,
} from '../../../worker/contract/statuses';
import { isAskingMe } from './sla';

// What the queue shows: statuses and severities (none chosen: all of them), "asking you" and a
// text search. It lives in the page's URL (`#/?status=open&severity=urgent,high&q=vpn`), so a
// reload, a bookmark or a link to a colleague keeps it; the server filters with the same rules
// (GET /v1/escalations), and `matches` applies them to cards that arrive live.

export interface QueueFilter {
  statuses: readonly HandoffStatus[];
  severities: readonly Severity[];
  asking: boolean;
  q: string;
}

/** What the queue opens on: everything still going on. */
export const DEFAULT_FILTER: QueueFilter = {
  statuses: ACTIVE_HANDOFF_STATUSES,
  severities: [],
  asking: false,
  q: '',
};

const MAX_QUERY_CHARS = 200;

/** The values of a list named in a comma-separated parameter, in the list's order. */
function listParam<const T extends readonly string[]>(values: T, raw: string | null): T[number][] {
  const named = new Set((raw ?? '').split(',').map((s) => s.trim()));
  return values.filter((v) => named.has(v));
}

/** The filter a URL's query says; what it does not say is the default, what it cannot mean is ignored. */
export function filterFromQuery(query: string): QueueFilter {
  const params = new URLSearchParams(query);
  const status = params.get('status');
  return {
    // `status=all` (or an empty list) is every status; no parameter at all is the default.
    statuses: status === null ? DEFAULT_FILTER.statuses : listParam(HANDOFF_STATUSES, status),
    severities: listParam(SEVERITIES, params.get('severity')),
    asking: params.get('asking') === 'me',
    q: (params.get('q') ?? '').slice(0, MAX_QUERY_CHARS),
  };
}

const same = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

/** The query part of the queue's URL for a filter: empty for the default. */
export function filterToQuery(f: QueueFilter): string {
  const params = new URLSearchParams();
  if (!same(f.statuses, DEFAULT_FILTER.statuses))
    params.set('status', f.statuses.length ? f.statuses.join(',') : 'all');
  if (f.severities.length) params.set('severity', f.severities.join(','));
  if (f.asking) params.set('asking', 'me');
  if (f.q.trim()) params.set('q', f.q.trim());
  return params.toString().replace(/%2C/g, ',');
}

/** The filter as `GET /v1/escalations` takes it (all statuses or severities: no parameter). */
export function apiQuery(f: QueueFilter): { status?: string; severity?: string; asking?: 'me'; q?: string } {
  const q = f.q.trim();
  return {
    ...(f.statuses.length && f.statuses.length < HANDOFF_STATUSES.length
      ? { status: f.statuses.join(',') }
      : {}),
    ...(f.severities.length && f.severities.length < SEVERITIES.length
      ? { severity: f.severities.join(',') }
      : {}),
    ...(f.asking ? { asking: 'me' as const } : {}),
    ...(q ? { q: q.slice(0, MAX_QUERY_CHARS) } : {}),
  };
}

/** Whether a card belongs in the queue under this filter (the server's rules, for live cards). */
export function matches(card: EscalationCard, f: QueueFilter, user: { userId: string; role: Role }): boolean {
  if (f.statuses.length && !f.statuses.includes(card.status)) return false;
  if (f.severities.length && !f.severities.includes(card.severity)) return false;
  if (f.asking && !isAskingMe(card, user)) return false;
  return matchesSearch(card.session, searchWords(f.q));
}

/** Adds or removes one value of a multiple choice. */
export function toggle<T extends string>(list: readonly T[], value: T, values: readonly T[]): T[] {
  const next = list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
  return values.filter((v) => next.includes(v));
}

/** How the queue names each status (an `open` card is waiting for pick-up). */
export const STATUS_WORDS: Record<HandoffStatus, string> = {
  open: 'waiting',
  picked_up: 'picked up',
  resolved: 'resolved',
  cancelled: 'cancelled',
};

/** The filter in words, for the page and for screen readers: "waiting or picked up, urgent, matching “vpn”". */
export function describeFilter(f: QueueFilter): string {
  const parts: string[] = [];
  parts.push(f.statuses.length ? f.statuses.map((s) => STATUS_WORDS[s]).join(' or ') : 'any status');
  if (f.severities.length) parts.push(f.severities.join(' or '));
  if (f.asking) parts.push('asking you');
  if (f.q.trim()) parts.push(`matching “${f.q.trim()}”`);
  return parts.join(', ');
}
