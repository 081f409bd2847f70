/** Text forms: addresses, prefixes, communities (examples; the properties are in roundtrip.test.ts). */
import { describe, expect, it } from 'vitest';
import {
  CodecInputError,
  WELL_KNOWN_COMMUNITIES,
  canonicalPrefix,
  communityName,
  formatCommunity,
  formatExtendedCommunity,
  parseCommunity,
  parseExtendedCommunity,
  parseLargeCommunity,
  describeNotification,
} from '../../../src/speaker/codec/index.js';
import { parseIpv4, parseIpv6, formatIpv6 } from '../../../src/speaker/codec/address.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof CodecInputError) return err.code;
    throw err;
  }
  return 'no error';
};

describe('addresses and prefixes', () => {
  it('IPv6 text forms, RFC 5952 output', () => {
    expect(formatIpv6(parseIpv6('2001:0DB8:0000:0000:0000:0000:0000:0001'))).toBe('2001:db8::1');
    expect(formatIpv6(parseIpv6('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1'); // one zero group is not compressed
    expect(formatIpv6(parseIpv6('2001:0:0:1:0:0:0:1'))).toBe('2001:0:0:1::1'); // the longest run
    expect(formatIpv6(parseIpv6('::ffff:192.0.2.1'))).toBe('::ffff:192.0.2.1');
    expect(formatIpv6(parseIpv6('::'))).toBe('::');
    expect(formatIpv6(parseIpv6('1::'))).toBe('1::');
  });
  it('refuses malformed addresses with a stable code', () => {
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1.2.3.4.5', '', 'a.b.c.d']) expect(code(() => parseIpv4(bad)), bad).toBe('BGP_ENCODE_BAD_ADDRESS');
    for (const bad of ['1:2:3:4:5:6:7', '1::2::3', ':1', '1:', '12345::', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '::1.2.3', 'g::']) expect(code(() => parseIpv6(bad)), bad).toBe('BGP_ENCODE_BAD_ADDRESS');
  });
  it('canonical prefixes clear host bits; a bare address is a host route', () => {
    expect(canonicalPrefix('10.1.2.3/8')).toEqual({ family: 'ipv4', prefix: '10.0.0.0/8' });
    expect(canonicalPrefix('192.0.2.10')).toEqual({ family: 'ipv4', prefix: '192.0.2.10/32' });
    expect(canonicalPrefix('2001:DB8::1/32')).toEqual({ family: 'ipv6', prefix: '2001:db8::/32' });
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/x', '2001:db8::/129']) expect(code(() => canonicalPrefix(bad)), bad).toBe('BGP_ENCODE_BAD_PREFIX');
  });
});

describe('communities', () => {
  it('well-known names (RFC 1997, 7999, 8326) <-> values; canonical text is numeric', () => {
    expect(parseCommunity('no-export')).toBe(0xffffff01);
    expect(parseCommunity('no-advertise')).toBe(0xffffff02);
    expect(parseCommunity('no-export-subconfed')).toBe(0xffffff03);
    expect(parseCommunity('graceful-shutdown')).toBe(parseCommunity('65535:0'));
    expect(parseCommunity('blackhole')).toBe(parseCommunity('65535:666'));
    expect(formatCommunity(0xffff0000)).toBe('65535:0');
    expect(communityName(0xffff0000)).toBe('graceful-shutdown');
    expect(communityName(parseCommunity('65001:100'))).toBeUndefined();
    expect(Object.keys(WELL_KNOWN_COMMUNITIES)).toContain('no-export');
  });
  it('refuses out-of-range or malformed communities', () => {
    for (const bad of ['65536:1', '1:65536', '1', '1:2:3', 'a:b', '-1:2', ' 1:2', '']) expect(code(() => parseCommunity(bad)), bad).toBe('BGP_ENCODE_BAD_COMMUNITY');
    for (const bad of ['1:2', '4294967296:1:1', '1:2:3:4']) expect(code(() => parseLargeCommunity(bad)), bad).toBe('BGP_ENCODE_BAD_COMMUNITY');
  });
  it('extended communities: RFC 4360 and RFC 5668 encodings', () => {
    expect(Buffer.from(parseExtendedCommunity('rt:65001:100')).toString('hex')).toBe('0002fde900000064');
    expect(Buffer.from(parseExtendedCommunity('rt:192.0.2.1:5')).toString('hex')).toBe('0102c00002010005');
    expect(Buffer.from(parseExtendedCommunity('rt:4200000001:7')).toString('hex')).toBe('0202fa56ea010007');
    expect(Buffer.from(parseExtendedCommunity('soo:65001:1')).toString('hex')).toBe('0003fde900000001');
    expect(Buffer.from(parseExtendedCommunity('0x0102030405060708')).toString('hex')).toBe('0102030405060708');
    expect(formatExtendedCommunity(Buffer.from('0102c00002010005', 'hex'))).toBe('rt:192.0.2.1:5');
    expect(formatExtendedCommunity(Buffer.from('8006000000000000', 'hex'))).toBe('8006000000000000');
    for (const bad of ['rt:1', 'xx:1:2', 'rt:4200000001:65536', 'rt:1.2.3:4', 'rt:65001:4294967296', '01020304']) expect(code(() => parseExtendedCommunity(bad)), bad).toBe('BGP_ENCODE_BAD_COMMUNITY');
  });
});

describe('describeNotification', () => {
  it('names what it knows and numbers what it does not', () => {
    expect(describeNotification(6, 2)).toBe('Cease/Administrative Shutdown');
    expect(describeNotification(4, 0)).toBe('Hold Timer Expired');
    expect(describeNotification(6, 42)).toBe('Cease/subcode 42');
    expect(describeNotification(99, 0)).toBe('error code 99');
  });
});
