import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newSecret, signatureHeader } from './signing';

describe('Standard Webhooks signing', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const a = newSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(a.slice(6))).toHaveLength(32);
    expect(newSecret()).not.toBe(a);
  });

  it('signs exactly as the standardwebhooks library does, and it verifies', async () => {
    const secret = newSecret();
    const body = JSON.stringify({ type: 'ping', timestamp: '2026-01-01T00:00:00.000Z', data: { é: 'ü' } });
    const now = new Date();
    const ts = Math.floor(now.getTime() / 1000);
    const header = await signatureHeader([secret], 'msg_1', ts, body);
    expect(header).toBe(new Webhook(secret).sign('msg_1', new Date(ts * 1000), body));
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': header };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('with two secrets, either one verifies', async () => {
    const [next, old] = [newSecret(), newSecret()];
    const ts = Math.floor(Date.now() / 1000);
    const header = await signatureHeader([next, old], 'msg_2', ts, '{}');
    expect(header.split(' ')).toHaveLength(2);
    const headers = { 'webhook-id': 'msg_2', 'webhook-timestamp': String(ts), 'webhook-signature': header };
    expect(new Webhook(next).verify('{}', headers)).toEqual({});
    expect(new Webhook(old).verify('{}', headers)).toEqual({});
    expect(() => new Webhook(newSecret()).verify('{}', headers)).toThrow();
  });
});
