/** Round-trip properties: decode(encode(x)) = x for every message, attribute and text form. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AS_TRANS,
  MessageType,
  decodeMessage,
  decodeShutdownCommunication,
  effectiveAggregator,
  effectiveAsPath,
  encodeMessage,
  encodeShutdownCommunication,
  readMessageLength,
  type CodecOptions,
  type DecodedUpdate,
  type PathAttributes,
  type UpdateMessage,
} from '../../../src/speaker/codec/index.js';
import { ATTRIBUTES } from '../../../src/speaker/codec/attributes/table.js';
import { decodePrefixes, encodeNlri, parsePrefix } from '../../../src/speaker/codec/prefix.js';
import { formatIpv6, parseIpv6 } from '../../../src/speaker/codec/address.js';
import {
  formatCommunity,
  formatExtendedCommunity,
  formatLargeCommunity,
  parseCommunity,
  parseExtendedCommunity,
  parseLargeCommunity,
} from '../../../src/speaker/codec/community-text.js';
import { OPTIONS, arbAsPath, arbAggregator, arbOpen, arbOptions, arbPrefix, arbUpdate, attributeArbitraries } from './arbitraries.js';

const roundTrip = (msg: Parameters<typeof encodeMessage>[0], opts: CodecOptions) => {
  const bytes = encodeMessage(msg, opts);
  expect(readMessageLength(bytes, opts)).toBe(bytes.length);
  return decodeMessage(bytes, opts);
};

describe('messages', () => {
  it('OPEN, with any capabilities (RFC 9072 extended parameter length above 255 octets)', () => {
    fc.assert(fc.property(arbOpen, arbOptions, (open, opts) => {
        expect(roundTrip(open, opts)).toEqual(open);
      }));
  });

  it('UPDATE with any attributes, on every kind of session', () => {
    fc.assert(fc.property(arbOptions.chain((o) => fc.tuple(fc.constant(o), arbUpdate(o))), ([opts, update]) => {
        expect(roundTrip(update, opts)).toEqual(update);
      }), {
      numRuns: 300,
    });
  });

  it('NOTIFICATION with any code, subcode and data', () => {
    const arb = fc.record({
      type: fc.constant(MessageType.Notification as const),
      code: fc.integer({ min: 0, max: 255 }),
      subcode: fc.integer({ min: 0, max: 255 }),
      data: fc.uint8Array({ maxLength: 4096 - 21 }),
    });
    fc.assert(fc.property(arb, arbOptions, (n, opts) => {
        expect(roundTrip(n, opts)).toEqual(n);
      }));
  });

  it('KEEPALIVE', () => {
    for (const opts of OPTIONS) expect(roundTrip({ type: MessageType.Keepalive }, opts)).toEqual({ type: MessageType.Keepalive });
  });

  it('ROUTE-REFRESH with any AFI, SAFI and RFC 7313 subtype', () => {
    const arb = fc.record({
      type: fc.constant(MessageType.RouteRefresh as const),
      afi: fc.integer({ min: 0, max: 0xffff }),
      subtype: fc.integer({ min: 0, max: 255 }),
      safi: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(fc.property(arb, arbOptions, (r, opts) => {
        expect(roundTrip(r, opts)).toEqual(r);
      }));
  });
});

describe('each path attribute alone', () => {
  const fields = [...new Set([...ATTRIBUTES.values()].map((r) => r.field)), 'unknown' as const];
  it('has an arbitrary for every row of the attribute table', () => {
    const arbs = attributeArbitraries(OPTIONS[0]!);
    for (const f of fields) expect(arbs[f], f).toBeDefined();
  });
  for (const opts of OPTIONS) {
    const arbs = attributeArbitraries(opts);
    const label = `${opts.fourOctetAs ? '4' : '2'}-octet${opts.extendedMessage ? ', extended' : ''}`;
    it.each(fields.filter((f) => opts.fourOctetAs === false || (f !== 'as4Path' && f !== 'as4Aggregator')))(`%s (${label})`, (field) => {
      fc.assert(
        fc.property(arbs[field] as fc.Arbitrary<unknown>, (value) => {
          const update: UpdateMessage = { type: MessageType.Update, withdrawn: [], attributes: { [field]: value }, nlri: [] };
          const { treatAsWithdraw, ...got } = roundTrip(update, opts) as DecodedUpdate;
          expect(got).toEqual(update);
          // MP_REACH_NLRI with prefixes but no ORIGIN/AS_PATH: RFC 7606 §3 d treat-as-withdraw.
          const reaches = field === 'mpReach' && (value as { nlri: unknown[] }).nlri.length > 0;
          expect(treatAsWithdraw?.id).toBe(reaches ? 'BGP_UPDATE_MISSING_WELL_KNOWN' : undefined);
        }),
        { numRuns: 50 },
      );
    });
  }
});

describe('RFC 6793 AS_TRANS and AS4_PATH', () => {
  const two: CodecOptions = { fourOctetAs: false, extendedMessage: false, extendedNextHopIpv4: false };
  const four: CodecOptions = { fourOctetAs: true, extendedMessage: false, extendedNextHopIpv4: false };
  const base = (attributes: PathAttributes): UpdateMessage => ({ type: MessageType.Update, withdrawn: [], attributes, nlri: [] });
  const anyAsn = fc.integer({ min: 0, max: 0xffffffff });

  it('a 4-octet path sent over a 2-octet session is rebuilt from AS_PATH + AS4_PATH', () => {
    fc.assert(
      // RFC 6793 §4.2.3: a NEW speaker with a 4-octet AS sends AGGREGATOR as AS_TRANS; a real
      // 2-octet number there means AS4_PATH is ignored (checked below), so aggregators here are big.
      fc.property(arbAsPath(anyAsn, false), fc.option(arbAggregator(fc.integer({ min: 0x10000, max: 0xffffffff })), { nil: undefined }), (asPath, aggregator) => {
        const got = roundTrip(base({ origin: 'igp', asPath, aggregator }), two);
        if (got.type !== MessageType.Update) throw new Error('not an UPDATE');
        expect(effectiveAsPath(got.attributes)).toEqual(asPath);
        expect(effectiveAggregator(got.attributes)).toEqual(aggregator);
        for (const s of got.attributes.asPath ?? []) for (const a of s.asns) expect(a).toBeLessThanOrEqual(0xffff);
        const big = asPath.some((s) => s.asns.some((a) => a > 0xffff));
        expect(got.attributes.as4Path !== undefined).toBe(big);
        if (big) expect(got.attributes.asPath!.flatMap((s) => s.asns)).toContain(AS_TRANS);
      }),
    );
  });

  it('an older speaker prepending itself keeps its ASN in front of the AS4_PATH (RFC 6793 §4.2.3)', () => {
    // Sent by a NEW speaker as AS_PATH [23456, 65001] + AS4_PATH [4200000001, 65001], then an
    // OLD speaker (AS 64999) prepended itself to AS_PATH only.
    const attrs: PathAttributes = {
      asPath: [{ type: 'sequence', asns: [64999, AS_TRANS, 65001] }],
      as4Path: [{ type: 'sequence', asns: [4200000001, 65001] }],
    };
    expect(effectiveAsPath(attrs)).toEqual([{ type: 'sequence', asns: [64999, 4200000001, 65001] }]);
    // AS4_PATH longer than AS_PATH: ignored.
    expect(effectiveAsPath({ asPath: [{ type: 'sequence', asns: [1] }], as4Path: [{ type: 'sequence', asns: [2, 3] }] })).toEqual([{ type: 'sequence', asns: [1] }]);
    // An AGGREGATOR that is not AS_TRANS means AS4_PATH is ignored (§4.2.3).
    expect(effectiveAsPath({ ...attrs, aggregator: { asn: 65001, address: '192.0.2.1' } })).toEqual(attrs.asPath);
  });

  it('on a 4-octet session, AS numbers travel as they are and no AS4_PATH is added', () => {
    fc.assert(
      fc.property(arbAsPath(anyAsn), (asPath) => {
        const got = roundTrip(base({ asPath }), four);
        expect(got).toEqual(base({ asPath }));
      }),
    );
  });
});

describe('prefixes', () => {
  for (const family of ['ipv4', 'ipv6'] as const) {
    it(`${family}: every length encodes to the fewest octets and decodes back canonical`, () => {
      fc.assert(
        fc.property(arbPrefix(family), (p) => {
          const wire = encodeNlri(p);
          const { length } = parsePrefix(p.prefix, family);
          expect(wire.length).toBe(1 + Math.ceil(length / 8));
          expect(decodePrefixes(wire, 0, wire.length, family, (d) => new Error(d))).toEqual([p]);
        }),
        { numRuns: 500 },
      );
    });
  }

  it('IPv6 text matches the WHATWG URL serializer (an independent RFC 5952 implementation)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const text = formatIpv6(b);
        expect(parseIpv6(text)).toEqual(b);
        const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
        if (!mapped) expect(`[${text}]`).toBe(new URL(`http://[${text}]/`).hostname);
      }),
      { numRuns: 500 },
    );
  });
});

describe('text forms', () => {
  it('communities: uint32 <-> "asn:value"', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        expect(parseCommunity(formatCommunity(n))).toBe(n);
      }));
  });
  it('large communities', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(fc.property(fc.tuple(u32, u32, u32), (c) => {
        expect(parseLargeCommunity(formatLargeCommunity(c))).toEqual(c);
      }));
  });
  it('extended communities: text -> 8 octets -> the same text', () => {
    const arb = fc.oneof(
      fc.tuple(fc.constantFrom('rt', 'soo'), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff })).map(([t, a, n]) => `${t}:${a}:${n}`),
      fc.tuple(fc.constantFrom('rt', 'soo'), fc.integer({ min: 0x10000, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff })).map(([t, a, n]) => `${t}:${a}:${n}`),
      fc.tuple(fc.constantFrom('rt', 'soo'), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 0xffff })).map(([t, a, n]) => `${t}:${a.join('.')}:${n}`),
    );
    fc.assert(fc.property(arb, (text) => {
        expect(formatExtendedCommunity(parseExtendedCommunity(text))).toBe(text);
      }));
  });
  it('extended communities of other types: 8 octets -> 16 hex digits -> the same octets', () => {
    const arb = fc.uint8Array({ minLength: 8, maxLength: 8 }).filter((b) => !([0, 1, 2].includes(b[0]!) && [2, 3].includes(b[1]!)));
    fc.assert(fc.property(arb, (b) => {
        expect(parseExtendedCommunity(formatExtendedCommunity(b))).toEqual(b);
      }));
  });
  it('shutdown communication: any text up to 255 octets survives; longer text is cut on a character boundary', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => {
        const enc = encodeShutdownCommunication(s);
        const back = decodeShutdownCommunication(enc);
        if (Buffer.byteLength(s) <= 255) expect(back ?? '').toBe(s);
        else {
          expect(enc.length).toBeLessThanOrEqual(256);
          expect(s.startsWith(back!)).toBe(true);
        }
      }),
    );
  });
});
