import { isPrivateHost, normalizeHost } from '../lib/private-address';

// Where a webhook may be sent (DESIGN.md "Safe targets"): public https; http and private or
// loopback addresses only for the hosts WEBHOOK_ALLOW_HOSTS names; never credentials in the URL.
// Checked when an endpoint is registered or changed (a 400 naming the reason) and again before
// every attempt, so a setting narrowed later applies to endpoints stored earlier.

export const MAX_WEBHOOK_URL_LENGTH = 2048;

export type TargetCheck = { ok: true; url: string; host: string } | { ok: false; reason: string };

/** Whether `host` is named by an entry of WEBHOOK_ALLOW_HOSTS (exact names; ports are not part of it). */
export const isAllowListed = (host: string, allowHosts: readonly string[]) => {
  const h = normalizeHost(host);
  return h !== '' && allowHosts.some((entry) => normalizeHost(entry) === h);
};

export function checkWebhookTarget(raw: string, allowHosts: readonly string[]): TargetCheck {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    return { ok: false, reason: `the URL is longer than ${MAX_WEBHOOK_URL_LENGTH} characters` };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid absolute URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, reason: `only https URLs are allowed, not ${url.protocol}` };
  }
  if (url.username !== '' || url.password !== '') {
    return {
      ok: false,
      reason: 'the URL may not carry credentials (user:password@); authenticate with the signature',
    };
  }
  const host = normalizeHost(url.hostname);
  const listed = isAllowListed(host, allowHosts);
  if (url.protocol === 'http:' && !listed) {
    return {
      ok: false,
      reason: `http is allowed only for hosts in WEBHOOK_ALLOW_HOSTS; use https for ${host}`,
    };
  }
  if (isPrivateHost(host) && !listed) {
    return {
      ok: false,
      reason: `${host} is a loopback or private address; only hosts in WEBHOOK_ALLOW_HOSTS may be`,
    };
  }
  // A fragment is never sent; dropping it keeps the stored URL what is actually called.
  url.hash = '';
  return { ok: true, url: url.toString(), host };
}

/** What a log line or an error may say about a target: its origin, never its path (a Slack URL's path is its secret). */
export const describeTarget = (raw: string) => {
  try {
    return new URL(raw).origin;
  } catch {
    return 'an invalid URL';
  }
};
