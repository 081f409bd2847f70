/**
 * RFC 4271 §6 and RFC 7606 error handling: one case per error class, asserting the NOTIFICATION's
 * code, subcode and data (never message text), or the RFC 7606 outcome reported on the UPDATE.
 */
import { describe, expect, it } from 'vitest';
import {
  CeaseSubcode,
  MessageType,
  NotificationError,
  ceaseNotification,
  decodeMessage,
  decodeShutdownCommunication,
  encodeMessage,
  readMessageLength,
  shutdownCommunicationOf,
  validateOpen,
  type CodecOptions,
  type DecodedUpdate,
  type OpenMessage,
} from '../../../src/speaker/codec/index.js';

const FOUR: CodecOptions = { fourOctetAs: true, extendedMessage: false, extendedNextHopIpv4: false };
const TWO: CodecOptions = { ...FOUR, fourOctetAs: false };
const EXT: CodecOptions = { ...FOUR, extendedMessage: true };

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
/** Whole message: marker, length, type, body. */
const message = (type: number, body: Uint8Array, length = 19 + body.length) => Buffer.concat([Buffer.alloc(16, 0xff), u16(length), Buffer.from([type]), body]);
const attr = (flags: number, code: number, value: string | Uint8Array) => {
  const v = typeof value === 'string' ? hex(value) : Buffer.from(value);
  return flags & 0x10 ? Buffer.concat([Buffer.from([flags, code]), u16(v.length), v]) : Buffer.concat([Buffer.from([flags, code, v.length]), v]);
};
const update = (withdrawn: Uint8Array, attrs: Uint8Array[], nlri: Uint8Array) => {
  const a = Buffer.concat(attrs);
  return message(2, Buffer.concat([u16(withdrawn.length), withdrawn, u16(a.length), a, nlri]));
};

const ORIGIN = attr(0x40, 1, '00');
const AS_PATH = attr(0x40, 2, '02 01 0000fde9'); // AS_SEQUENCE [65001], 4-octet
const NEXT_HOP = attr(0x40, 3, 'c0000201');
const NLRI = hex('20 c000020a'); // 192.0.2.10/32
const valid = [ORIGIN, AS_PATH, NEXT_HOP];

/** The NotificationError thrown by fn. */
function thrown(fn: () => unknown): NotificationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof NotificationError) return err;
    throw new Error(`expected a NotificationError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a NotificationError, nothing was thrown');
}

function expectNotification(err: NotificationError, code: number, subcode: number, data: Uint8Array | string = '') {
  const bytes = typeof data === 'string' ? hex(data) : data;
  expect({ code: err.code, subcode: err.subcode, data: Buffer.from(err.data).toString('hex') }).toEqual({ code, subcode, data: Buffer.from(bytes).toString('hex') });
  // The error is the NOTIFICATION: its encoding carries the same fields (corebgp once dropped data here).
  const wire = encodeMessage(err.toMessage(), FOUR);
  expect(decodeMessage(wire, FOUR)).toEqual({ type: MessageType.Notification, code, subcode, data: new Uint8Array(bytes) });
}

const decodeUpdate = (buf: Buffer, opts = FOUR) => decodeMessage(buf, opts) as DecodedUpdate;

describe('§6.1 message header errors', () => {
  it('readMessageLength waits for 19 octets', () => {
    expect(readMessageLength(hex('ffff'), FOUR)).toBeUndefined();
  });
  it('marker not all ones: Connection Not Synchronized, no data', () => {
    const buf = message(4, Buffer.alloc(0));
    buf[3] = 0;
    expectNotification(thrown(() => readMessageLength(buf, FOUR)), 1, 1);
    expectNotification(thrown(() => decodeMessage(buf, FOUR)), 1, 1);
  });
  it('length below 19 or above the maximum: Bad Message Length with the length field', () => {
    expectNotification(thrown(() => readMessageLength(message(4, Buffer.alloc(0), 18), FOUR)), 1, 2, '0012');
    expectNotification(thrown(() => readMessageLength(message(2, Buffer.alloc(0), 4097), FOUR)), 1, 2, '1001');
    expect(readMessageLength(message(2, Buffer.alloc(0), 4097), EXT)).toBe(4097);
  });
  it('RFC 8654: OPEN and KEEPALIVE stay within 4096 even with extended messages', () => {
    expectNotification(thrown(() => readMessageLength(message(1, Buffer.alloc(0), 4097), EXT)), 1, 2, '1001');
  });
  it('per-type minimum lengths and the KEEPALIVE exact length', () => {
    expectNotification(thrown(() => readMessageLength(message(4, Buffer.alloc(1)), FOUR)), 1, 2, '0014');
    expectNotification(thrown(() => readMessageLength(message(1, Buffer.alloc(9)), FOUR)), 1, 2, '001c');
    expectNotification(thrown(() => readMessageLength(message(2, Buffer.alloc(3)), FOUR)), 1, 2, '0016');
    expectNotification(thrown(() => readMessageLength(message(3, Buffer.alloc(1)), FOUR)), 1, 2, '0014');
    expectNotification(thrown(() => readMessageLength(message(5, Buffer.alloc(3)), FOUR)), 1, 2, '0016');
  });
  it('unknown type: Bad Message Type with the type octet', () => {
    expectNotification(thrown(() => readMessageLength(message(9, Buffer.alloc(0)), FOUR)), 1, 3, '09');
  });
  it('a buffer that is not exactly one message is a Bad Message Length', () => {
    const two = Buffer.concat([message(4, Buffer.alloc(0)), message(4, Buffer.alloc(0))]);
    expectNotification(thrown(() => decodeMessage(two, FOUR)), 1, 2, '0013');
  });
});

/** OPEN body: version, AS, hold time, identifier, parameters. */
const openBody = (o: { version?: number; as?: number; hold?: number; id?: string; params?: string }) => {
  const params = hex(o.params ?? '');
  return Buffer.concat([Buffer.from([o.version ?? 4]), u16(o.as ?? 65001), u16(o.hold ?? 90), hex(o.id ?? 'c0000201'), Buffer.from([params.length]), params]);
};

describe('§6.2 OPEN errors', () => {
  it('unsupported version: data is the version we support, 2 octets', () => {
    expectNotification(thrown(() => decodeMessage(message(1, openBody({ version: 3 })), FOUR)), 2, 1, '0004');
  });
  it('hold time 1 or 2: Unacceptable Hold Time; 0 and 3 are fine', () => {
    for (const hold of [1, 2]) expectNotification(thrown(() => decodeMessage(message(1, openBody({ hold })), FOUR)), 2, 6);
    for (const hold of [0, 3]) expect(decodeMessage(message(1, openBody({ hold })), FOUR)).toMatchObject({ holdTimeSec: hold });
  });
  it('BGP identifier 0.0.0.0: Bad BGP Identifier (RFC 6286)', () => {
    expectNotification(thrown(() => decodeMessage(message(1, openBody({ id: '00000000' })), FOUR)), 2, 3);
  });
  it('an optional parameter other than Capabilities: Unsupported Optional Parameter', () => {
    expectNotification(thrown(() => decodeMessage(message(1, openBody({ params: '01 02 0000' })), FOUR)), 2, 4);
  });
  it('a recognised but malformed capability, or parameter lengths that do not add up: Unspecific', () => {
    expectNotification(thrown(() => decodeMessage(message(1, openBody({ params: '02 04 41 02 fde9' })), FOUR)), 2, 0);
    expectNotification(thrown(() => decodeMessage(message(1, openBody({ params: '02 09 41 04 fde9' })), FOUR)), 2, 0);
  });
  it('unknown capabilities are kept raw, not refused (RFC 5492 §3)', () => {
    const open = decodeMessage(message(1, openBody({ params: '02 05 49 03 010203' })), FOUR) as OpenMessage;
    expect(open.capabilities).toEqual([{ kind: 'unknown', code: 73, value: new Uint8Array([1, 2, 3]) }]);
  });

  const peer = (caps: OpenMessage['capabilities'], myAs = 23456, routerId = '192.0.2.2'): OpenMessage => ({ type: MessageType.Open, version: 4, myAs, holdTimeSec: 90, routerId, capabilities: caps });
  const expect4200 = { peerAs: 4200000001, localAs: 65001, localRouterId: '192.0.2.1' };
  it('validateOpen: the wrong peer AS, or AS 0 (RFC 7607): Bad Peer AS', () => {
    expectNotification(thrown(() => validateOpen(peer([{ kind: 'four-octet-as', asn: 4200000002 }]), expect4200)), 2, 2);
    expectNotification(thrown(() => validateOpen(peer([], 0), { ...expect4200, peerAs: 0 })), 2, 2);
    expect(() => validateOpen(peer([{ kind: 'four-octet-as', asn: 4200000001 }]), expect4200)).not.toThrow();
  });
  it('validateOpen: an iBGP peer with our identifier: Bad BGP Identifier', () => {
    expectNotification(thrown(() => validateOpen(peer([], 65001, '192.0.2.1'), { peerAs: 65001, localAs: 65001, localRouterId: '192.0.2.1' })), 2, 3);
  });
  it('validateOpen: a required capability missing: Unsupported Capability listing it (RFC 5492 §5)', () => {
    const err = thrown(() => validateOpen(peer([], 65002), { peerAs: 65002, localAs: 65001, localRouterId: '192.0.2.1', required: [{ kind: 'multiprotocol', afi: 2, safi: 1 }] }));
    expectNotification(err, 2, 7, '01 04 0002 00 01');
  });
});

describe('§6.3 UPDATE errors that reset the session', () => {
  it('withdrawn routes length beyond the message: Malformed Attribute List', () => {
    expectNotification(thrown(() => decodeMessage(message(2, hex('0010 0000')), FOUR)), 3, 1);
  });
  it('total path attribute length beyond the message: Malformed Attribute List', () => {
    expectNotification(thrown(() => decodeMessage(message(2, hex('0000 0010 40010100')), FOUR)), 3, 1);
  });
  it('an NLRI or withdrawn prefix longer than 32 bits, or running past the field: Invalid Network Field', () => {
    expectNotification(thrown(() => decodeUpdate(update(Buffer.alloc(0), valid, hex('21 c0000201 00')))), 3, 10);
    expectNotification(thrown(() => decodeUpdate(update(hex('21 c0000201 00'), [], Buffer.alloc(0)))), 3, 10);
    expectNotification(thrown(() => decodeUpdate(update(Buffer.alloc(0), valid, hex('20 c00002')))), 3, 10);
  });
  it('an unrecognised well-known attribute: data is the attribute', () => {
    const bad = attr(0x40, 99, '0102');
    expectNotification(thrown(() => decodeUpdate(update(Buffer.alloc(0), [...valid, bad], NLRI))), 3, 2, bad);
  });
  it('MP_REACH_NLRI malformed (next hop length, unknown AFI, prefix too long): Optional Attribute Error, attribute as data (RFC 7606 §7.11)', () => {
    for (const value of ['0002 01 05 2001db8000 00', '0003 01 04 c0000201 00', '0002 01 10 20010db8000000000000000000000001 00 81 00']) {
      const mp = attr(0x90, 14, value);
      expectNotification(thrown(() => decodeUpdate(update(Buffer.alloc(0), [ORIGIN, AS_PATH, mp], Buffer.alloc(0)))), 3, 9, mp);
    }
  });
  it('MP_UNREACH_NLRI malformed: session reset', () => {
    const mp = attr(0x80, 15, '0002 01 81');
    expectNotification(thrown(() => decodeUpdate(update(Buffer.alloc(0), [mp], Buffer.alloc(0)))), 3, 9, mp);
  });
  it('MP_REACH_NLRI twice: Malformed Attribute List (RFC 7606 §3 g)', () => {
    const mp = attr(0x80, 15, '0002 01');
    expectNotification(thrown(() => decodeUpdate(update(Buffer.alloc(0), [mp, mp], Buffer.alloc(0)))), 3, 1);
  });
  it('MP_REACH_NLRI with wrong flags resets too (its malformation approach)', () => {
    const mp = attr(0x40, 14, '0001 01 04 c0000201 00');
    expectNotification(thrown(() => decodeUpdate(update(Buffer.alloc(0), [ORIGIN, AS_PATH, mp], Buffer.alloc(0)))), 3, 4, mp);
  });
});

describe('RFC 7606 treat-as-withdraw', () => {
  const cases: Array<[string, Buffer, number, CodecOptions?]> = [
    ['ORIGIN of an undefined value: Invalid ORIGIN', attr(0x40, 1, '03'), 6],
    ['ORIGIN of 2 octets: Attribute Length Error', attr(0x40, 1, '0000'), 5],
    ['AS_PATH segment overrunning the attribute: Malformed AS_PATH', attr(0x40, 2, '02 02 0000fde9'), 11],
    ['AS_PATH segment of an unknown type', attr(0x40, 2, '05 01 0000fde9'), 11],
    ['AS_PATH segment of zero length (§7.2)', attr(0x40, 2, '02 00'), 11],
    ['NEXT_HOP of 5 octets', attr(0x40, 3, 'c000020100'), 5],
    ['MULTI_EXIT_DISC of 3 octets', attr(0x80, 4, '000001'), 5],
    ['LOCAL_PREF of 0 octets', attr(0x40, 5, ''), 5],
    ['COMMUNITIES not a multiple of 4 (§7.8)', attr(0xc0, 8, '0000000100'), 5],
    ['COMMUNITIES of zero length', attr(0xc0, 8, ''), 5],
    ['EXTENDED_COMMUNITIES not a multiple of 8 (§7.14)', attr(0xc0, 16, '00020000000064'), 5],
    ['LARGE_COMMUNITY not a multiple of 12 (RFC 8092 §6)', attr(0xc0, 32, '0000fde9000000010000'), 5],
    ['ORIGIN marked optional: Attribute Flags Error (§3 c)', attr(0xc0, 1, '00'), 4],
    ['MULTI_EXIT_DISC marked well-known', attr(0x40, 4, '00000001'), 4],
  ];
  it.each(cases)('%s', (_name, bad, subcode) => {
    const code = bad[1]!;
    const attrs = [...valid.filter((a) => a[1] !== code), bad].sort((a, b) => a[1]! - b[1]!);
    const u = decodeUpdate(update(Buffer.alloc(0), attrs, NLRI));
    expect(u.nlri).toEqual([{ family: 'ipv4', prefix: '192.0.2.10/32' }]);
    expect(u.treatAsWithdraw?.notification).toEqual({ type: MessageType.Notification, code: 3, subcode, data: new Uint8Array(bad) });
  });

  it('a missing well-known attribute: Missing Well-known Attribute, data is its type code (§3 d)', () => {
    for (const [code, attrs] of [
      [1, [AS_PATH, NEXT_HOP]],
      [2, [ORIGIN, NEXT_HOP]],
      [3, [ORIGIN, AS_PATH]],
    ] as const) {
      const u = decodeUpdate(update(Buffer.alloc(0), [...attrs], NLRI));
      expect(u.treatAsWithdraw?.notification).toMatchObject({ code: 3, subcode: 3, data: new Uint8Array([code]) });
    }
  });

  it('NEXT_HOP is not needed for MP_REACH_NLRI only (RFC 4760 §3); ORIGIN and AS_PATH are', () => {
    const mp = attr(0x90, 14, '0002 01 10 20010db8000000000000000000000001 00 80 20010db8000000000000000000000010');
    expect(decodeUpdate(update(Buffer.alloc(0), [ORIGIN, AS_PATH, mp], Buffer.alloc(0))).treatAsWithdraw).toBeUndefined();
    expect(decodeUpdate(update(Buffer.alloc(0), [mp], Buffer.alloc(0))).treatAsWithdraw?.id).toBe('BGP_UPDATE_MISSING_WELL_KNOWN');
  });

  it('an attribute overrunning the attribute field: treat-as-withdraw, NLRI still located (§4)', () => {
    const truncated = hex('40 03 08 c0000201'); // says 8 octets, has 4
    const u = decodeUpdate(update(Buffer.alloc(0), [ORIGIN, AS_PATH, truncated], NLRI));
    expect(u.nlri).toEqual([{ family: 'ipv4', prefix: '192.0.2.10/32' }]);
    expect(u.treatAsWithdraw?.notification).toMatchObject({ code: 3, subcode: 5 });
  });

  it('fewer than 3 octets left for an attribute header: treat-as-withdraw (§4)', () => {
    const u = decodeUpdate(update(Buffer.alloc(0), [...valid, hex('40 01')], NLRI));
    expect(u.treatAsWithdraw?.notification).toMatchObject({ code: 3, subcode: 5, data: new Uint8Array(hex('4001')) });
  });
});

describe('RFC 7606 attribute discard', () => {
  const cases: Array<[string, Buffer, number, CodecOptions]> = [
    ['ATOMIC_AGGREGATE with a value (§7.6)', attr(0x40, 6, '00'), 5, FOUR],
    ['AGGREGATOR of 7 octets on a 4-octet session (§7.7)', attr(0xc0, 7, '0000fde9c00002'), 5, FOUR],
    ['AGGREGATOR of 8 octets on a 2-octet session', attr(0xc0, 7, '0000fde9c0000201'), 5, TWO],
    ['ATOMIC_AGGREGATE marked optional: flags error, still a discard', attr(0xc0, 6, ''), 4, FOUR],
    ['AS4_PATH between two 4-octet speakers (RFC 6793 §3)', attr(0xc0, 17, '02 01 fa56ea01'), 9, FOUR],
    ['AS4_PATH malformed (RFC 6793 §6)', attr(0xc0, 17, '02 02 fa56ea01'), 11, TWO],
    ['AS4_AGGREGATOR of 6 octets (RFC 6793 §6)', attr(0xc0, 18, 'fde9c0000201'), 5, TWO],
  ];
  it.each(cases)('%s', (_name, bad, subcode, opts) => {
    const asPath = opts.fourOctetAs ? AS_PATH : attr(0x40, 2, '02 01 fde9');
    const u = decodeUpdate(update(Buffer.alloc(0), [ORIGIN, asPath, NEXT_HOP, bad], NLRI), opts);
    expect(u.treatAsWithdraw).toBeUndefined();
    expect(u.discarded).toEqual([expect.objectContaining({ code: bad[1], notification: { type: MessageType.Notification, code: 3, subcode, data: new Uint8Array(bad) } })]);
  });

  it('a repeated attribute: the first one stays, the rest are discarded (§3 g)', () => {
    const u = decodeUpdate(update(Buffer.alloc(0), [...valid, attr(0x80, 4, '00000001'), attr(0x80, 4, '00000002')], NLRI));
    expect(u.attributes.med).toBe(1);
    expect(u.discarded).toEqual([expect.objectContaining({ code: 4, id: 'BGP_UPDATE_MALFORMED_ATTRIBUTE_LIST' })]);
    expect(u.treatAsWithdraw).toBeUndefined();
  });
});

describe('RFC 7606 §3 j: the strongest error in an UPDATE wins', () => {
  const badOrigin = attr(0x40, 1, '07');
  const badAtomic = attr(0x40, 6, '00');
  const badMp = attr(0x80, 14, '0002 01 05 0000000000 00');
  it('treat-as-withdraw beats attribute discard (both reported)', () => {
    const u = decodeUpdate(update(Buffer.alloc(0), [badOrigin, AS_PATH, NEXT_HOP, badAtomic], NLRI));
    expect(u.treatAsWithdraw?.id).toBe('BGP_UPDATE_INVALID_ORIGIN');
    expect(u.discarded?.map((d) => d.code)).toEqual([6]);
  });
  it('session reset beats treat-as-withdraw, whichever comes first', () => {
    expectNotification(thrown(() => decodeUpdate(update(Buffer.alloc(0), [badOrigin, AS_PATH, badMp], Buffer.alloc(0)))), 3, 9, badMp);
    expectNotification(thrown(() => decodeUpdate(update(Buffer.alloc(0), [badMp, badOrigin, AS_PATH], Buffer.alloc(0)))), 3, 9, badMp);
  });
  it('a treat-as-withdraw followed by an NLRI syntax error resets', () => {
    expectNotification(thrown(() => decodeUpdate(update(Buffer.alloc(0), [badOrigin, AS_PATH, NEXT_HOP], hex('21 00000000 00')))), 3, 10);
  });
});

describe('ROUTE-REFRESH and NOTIFICATION', () => {
  it('RFC 7313 §5: a BoRR/EoRR of the wrong length: ROUTE-REFRESH Message Error, data is the whole message', () => {
    const buf = message(5, hex('0001 01 01 00'));
    expectNotification(thrown(() => decodeMessage(buf, FOUR)), 7, 1, buf);
  });
  it('a subtype-0 ROUTE-REFRESH with ORF entries is accepted (ORF ignored)', () => {
    expect(decodeMessage(message(5, hex('0001 00 01 0102')), FOUR)).toEqual({ type: MessageType.RouteRefresh, afi: 1, subtype: 0, safi: 1 });
  });
  it('any NOTIFICATION decodes: we never answer one with another (§6)', () => {
    expect(decodeMessage(message(3, hex('ff ff 0102')), FOUR)).toEqual({ type: MessageType.Notification, code: 255, subcode: 255, data: new Uint8Array([1, 2]) });
  });
  it('RFC 9003: Cease with a shutdown communication; none for other subcodes', () => {
    const n = ceaseNotification(CeaseSubcode.AdministrativeShutdown, 'vipcast shutting down');
    expect(Buffer.from(n.data).toString('hex')).toBe('15' + Buffer.from('vipcast shutting down').toString('hex'));
    expect(shutdownCommunicationOf(n)).toBe('vipcast shutting down');
    expect(ceaseNotification(CeaseSubcode.PeerDeconfigured, 'ignored').data).toEqual(new Uint8Array(0));
    expect(shutdownCommunicationOf(ceaseNotification(CeaseSubcode.AdministrativeReset, 'reset'))).toBe('reset');
  });
  it('RFC 9003 §3: a malformed shutdown communication is reported as absent, never thrown', () => {
    expect(decodeShutdownCommunication(hex('05 6869'))).toBeUndefined(); // length beyond the data
    expect(decodeShutdownCommunication(hex('02 c328'))).toBeUndefined(); // invalid UTF-8
    expect(decodeShutdownCommunication(hex('00'))).toBeUndefined();
  });
});
