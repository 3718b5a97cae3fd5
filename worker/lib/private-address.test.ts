import { describe, expect, it } from 'vitest';
import { isLoopbackHost, isPrivateHost, normalizeHost } from './private-address';

describe('isPrivateHost', () => {
  const hostOf = (url: string) => new URL(url).hostname;
  it.each([
    'http://127.0.0.1/',
    'http://127.9.9.9/',
    'http://0x7f.1/',
    'http://2130706433/',
    'http://10.1.2.3/',
    'http://172.16.0.1/',
    'http://172.31.255.255/',
    'http://192.168.1.1/',
    'http://169.254.169.254/',
    'http://0.0.0.0/',
    'http://[::1]/',
    'http://[::]/',
    'http://[fc00::1]/',
    'http://[fd12:3456::1]/',
    'http://[fe80::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:10.0.0.1]/',
    'http://localhost/',
    'http://api.localhost/',
    // Regression: "gaps in the private-address check". Each of these was judged public before.
    'http://[::127.0.0.1]/', // IPv4-compatible, parsed as ::7f00:1
    'http://[::10.0.0.1]/',
    'http://[::ffff:0:127.0.0.1]/', // IPv4-translated ::ffff:0:0:0/96
    'http://[::ffff:0:808:808]/',
    'http://[2002:7f00:1::]/', // 6to4 of 127.0.0.1
    'http://[2002:a9fe:a9fe::1]/', // 6to4 of 169.254.169.254
    'http://[64:ff9b::7f00:1]/', // NAT64 of 127.0.0.1
    'http://[64:ff9b::a00:1]/',
    'http://[64:ff9b:1::7f00:1]/', // local-use NAT64 of 127.0.0.1
    'http://[64:ff9b:1::a00:1]/',
    'http://[64:ff9b:1:ff::808:808]/', // local-use NAT64 in another layout: cannot be judged
    'http://[fec0::1]/', // site-local
    'http://[feff::1]/',
    'http://[ff02::1]/', // multicast
    'http://[ff0e::1]/',
    'http://[100::1]/', // discard
    'http://[2001::1]/', // Teredo, in the IETF protocol block
    'http://[2001:2::1]/', // benchmarking
    'http://[2001:db8::1]/', // documentation
    'http://[3fff::1]/', // documentation
    'http://[4000::1]/', // not global unicast space
    'http://198.18.0.1/', // benchmarking
    'http://198.19.255.255/',
    'http://192.0.0.1/', // IETF protocol assignments
    'http://192.0.2.1/', // documentation
    'http://198.51.100.7/',
    'http://203.0.113.9/',
    'http://192.88.99.1/', // deprecated 6to4 relay anycast
    'http://100.64.0.1/', // carrier-grade NAT
    'http://100.127.255.255/',
    'http://224.0.0.1/', // multicast
    'http://239.255.255.250/',
    'http://240.0.0.1/', // reserved
    'http://255.255.255.255/', // broadcast
  ])('%s is private', (url) => {
    expect(isPrivateHost(hostOf(url))).toBe(true);
  });

  it.each([
    'http://8.8.8.8/',
    'http://172.32.0.1/',
    'http://192.169.0.1/',
    'http://[2606:4700:4700::1111]/',
    'http://[::ffff:8.8.8.8]/',
    'http://example.com/',
    'http://1.1.1.1/',
    'http://100.63.255.255/',
    'http://100.128.0.1/',
    'http://198.17.255.255/',
    'http://198.20.0.1/',
    'http://192.0.3.1/',
    'http://223.255.255.255/',
    'http://[2002:808:808::1]/', // 6to4 of 8.8.8.8
    'http://[64:ff9b::808:808]/', // NAT64 of 8.8.8.8
    'http://[64:ff9b:1::808:808]/',
    'http://[::808:808]/', // IPv4-compatible 8.8.8.8
    'http://[2001:4860:4860::8888]/',
    'http://[2a00:1450:4001::1]/',
    'http://[3ffe::1]/',
  ])('%s is public', (url) => {
    expect(isPrivateHost(hostOf(url))).toBe(false);
  });
});

describe('normalizeHost', () => {
  it('lower-cases, unbrackets and drops a trailing dot', () => {
    expect(normalizeHost(' Hooks.Example.COM. ')).toBe('hooks.example.com');
    expect(normalizeHost('[::1]')).toBe('::1');
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback from merely private', () => {
    for (const h of ['127.0.0.1', '127.2.3.4', '[::1]', 'localhost', 'api.localhost', '[::ffff:127.0.0.1]']) {
      expect(isLoopbackHost(new URL(`http://${h}/`).hostname)).toBe(true);
    }
    for (const h of ['10.0.0.1', '192.168.1.1', '[fe80::1]', 'example.com', '8.8.8.8']) {
      expect(isLoopbackHost(new URL(`http://${h}/`).hostname)).toBe(false);
    }
  });
});
