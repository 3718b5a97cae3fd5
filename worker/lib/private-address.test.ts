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
