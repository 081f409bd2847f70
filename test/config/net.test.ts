import { describe, expect, test } from 'vitest';
import { canonicalIp, formatHostPort, hostPrefix, parseHostPort } from '../../src/config/net.js';

describe('canonicalIp', () => {
  test.each([
    ['10.0.0.1', '10.0.0.1', 'ipv4'],
    ['2001:DB8:0:0:0:0:0:10', '2001:db8::10', 'ipv6'],
    ['2001:0db8::0001', '2001:db8::1', 'ipv6'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 'ipv6'],
    ['::', '::', 'ipv6'],
  ])('%s -> %s', (input, address, family) => {
    expect(canonicalIp(input)).toEqual({ ok: true, value: { address, family } });
  });
  test.each(['010.0.0.1', '256.0.0.1', 'fe80::1%eth0', 'example.com', ''])('rejects %j', (input) => {
    expect(canonicalIp(input).ok).toBe(false);
  });
});

describe('hostPrefix', () => {
  test.each([
    ['192.0.2.10', '192.0.2.10/32'],
    ['192.0.2.10/32', '192.0.2.10/32'],
    ['2001:DB8::10', '2001:db8::10/128'],
    ['2001:db8:0::10/128', '2001:db8::10/128'],
  ])('%s -> %s', (input, prefix) => {
    const r = hostPrefix(input);
    expect(r.ok && r.value.prefix).toBe(prefix);
  });
  test.each(['192.0.2.0/24', '2001:db8::/64', '192.0.2.10/33', '192.0.2.10/', '192.0.2.10/x'])('rejects %j', (input) => {
    expect(hostPrefix(input).ok).toBe(false);
  });
  test('a short prefix is refused with a message saying only host routes are allowed', () => {
    const r = hostPrefix('192.0.2.0/24');
    expect(!r.ok && r.message).toMatch(/host route/);
  });
});

describe('parseHostPort', () => {
  test.each([
    ['127.0.0.1:8080', undefined, { host: '127.0.0.1', port: 8080, family: 'ipv4' }],
    ['[::1]:9179', undefined, { host: '::1', port: 9179, family: 'ipv6' }],
    ['[2001:DB8::1]:53', undefined, { host: '2001:db8::1', port: 53, family: 'ipv6' }],
    ['LocalHost:50051', undefined, { host: 'localhost', port: 50051 }],
    ['127.0.0.1', 53, { host: '127.0.0.1', port: 53, family: 'ipv4' }],
    ['::1', 53, { host: '::1', port: 53, family: 'ipv6' }],
  ])('%s', (input, dflt, value) => {
    expect(parseHostPort(input, dflt)).toEqual({ ok: true, value });
  });
  test.each(['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '::1', '[10.0.0.1]:80', 'bad_host:80', ':80', '127.0.0.1:http'])('rejects %j', (input) => {
    expect(parseHostPort(input).ok).toBe(false);
  });
  test('formatHostPort brackets IPv6', () => {
    expect(formatHostPort('::1', 80)).toBe('[::1]:80');
    expect(formatHostPort('10.0.0.1', 80)).toBe('10.0.0.1:80');
  });
});
