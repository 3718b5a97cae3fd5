import { describe, expect, it } from 'vitest';
import { checkWebhookTarget, describeTarget, isAllowListed } from './webhook-target';

const refused = (url: string, allow: string[] = []) => {
  const r = checkWebhookTarget(url, allow);
  if (r.ok) throw new Error(`expected ${url} to be refused`);
  return r.reason;
};

describe('safe webhook targets', () => {
  it('takes public https, and drops a fragment', () => {
    expect(checkWebhookTarget('https://hooks.example.com/in?x=1#frag', [])).toEqual({
      ok: true,
      url: 'https://hooks.example.com/in?x=1',
      host: 'hooks.example.com',
    });
  });

  it('refuses other schemes, credentials and plain http', () => {
    expect(refused('gopher://hooks.example.com/')).toMatch(/only https/);
    expect(refused('https://a:b@hooks.example.com/')).toMatch(/credentials/);
    expect(refused('https://a@hooks.example.com/')).toMatch(/credentials/);
    expect(refused('http://hooks.example.com/')).toMatch(
      /http is allowed only for hosts in WEBHOOK_ALLOW_HOSTS/,
    );
    expect(refused('/relative')).toMatch(/not a valid absolute URL/);
  });

  it('refuses private and loopback addresses in any spelling, unless allow-listed', () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://2130706433/',
      'https://[::ffff:127.0.0.1]/',
      'https://10.1.2.3/',
      'https://192.168.0.10/',
      'https://169.254.169.254/',
      'https://[fd00::1]/',
      'https://localhost:8443/',
      'https://svc.localhost/',
    ]) {
      expect(refused(url)).toMatch(/loopback or private address/);
    }
    expect(checkWebhookTarget('http://127.0.0.1:9999/hook', ['127.0.0.1']).ok).toBe(true);
    expect(checkWebhookTarget('http://LOCALHOST./hook', ['localhost']).ok).toBe(true);
    // An allow-listed name does not open another address.
    expect(refused('http://127.0.0.2/hook', ['127.0.0.1'])).toMatch(/http is allowed only/);
  });

  it('matches allow-list entries by exact host, and describes targets without their path', () => {
    expect(isAllowListed('127.0.0.1', ['127.0.0.1'])).toBe(true);
    expect(isAllowListed('a.example.com', ['example.com'])).toBe(false);
    expect(isAllowListed('', [''])).toBe(false);
    expect(describeTarget('https://hooks.slack.com/services/T000/B000/SECRET')).toBe(
      'https://hooks.slack.com',
    );
  });
});
