/** fast-check generators for the codec's message model, valid by construction. */
import fc from 'fast-check';
import { formatPrefix } from '../../../src/speaker/codec/prefix.js';
import { formatIpv4, formatIpv6 } from '../../../src/speaker/codec/address.js';
import { ATTRIBUTES } from '../../../src/speaker/codec/attributes/table.js';
import {
  MessageType,
  type AsPathSegment,
  type Capability,
  type CodecOptions,
  type OpenMessage,
  type PathAttributes,
  type Prefix,
  type UpdateMessage,
} from '../../../src/speaker/codec/types.js';

export const OPTIONS: CodecOptions[] = [
  { fourOctetAs: true, extendedMessage: false, extendedNextHopIpv4: false },
  { fourOctetAs: false, extendedMessage: false, extendedNextHopIpv4: false },
  { fourOctetAs: true, extendedMessage: true, extendedNextHopIpv4: true },
  { fourOctetAs: false, extendedMessage: true, extendedNextHopIpv4: true },
];
export const arbOptions = fc.constantFrom(...OPTIONS);

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });

export const arbIpv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIpv4(b));
export const arbIpv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIpv6(b));

function mask(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let bit = length; bit < out.length * 8; bit++) out[bit >> 3] = (out[bit >> 3] ?? 0) & ~(0x80 >> (bit & 7));
  return out;
}

export const arbPrefix = (family: 'ipv4' | 'ipv6'): fc.Arbitrary<Prefix> => {
  const size = family === 'ipv4' ? 4 : 16;
  return fc
    .tuple(fc.uint8Array({ minLength: size, maxLength: size }), fc.integer({ min: 0, max: size * 8 }))
    .map(([b, len]) => ({ family, prefix: formatPrefix(family, mask(b, len), len) }));
};

const arbSegment = (asn: fc.Arbitrary<number>, types: AsPathSegment['type'][]): fc.Arbitrary<AsPathSegment> =>
  fc.record({ type: fc.constantFrom(...types), asns: fc.array(asn, { minLength: 1, maxLength: 12 }) });

/** AS paths; `asn` bounds the numbers (65535 for a 2-octet session without AS4_PATH). */
export const arbAsPath = (asn: fc.Arbitrary<number>, confed = true): fc.Arbitrary<AsPathSegment[]> =>
  fc.array(arbSegment(asn, confed ? ['sequence', 'set', 'confed-sequence', 'confed-set'] : ['sequence', 'set']), { maxLength: 4 });

export const arbAggregator = (asn: fc.Arbitrary<number>) => fc.record({ asn, address: arbIpv4 });

const arbExtCommunity = fc.uint8Array({ minLength: 8, maxLength: 8 });
const arbLarge = fc.tuple(u32, u32, u32);

/** Unknown optional attributes: codes without a table row, distinct, flags as a peer may set them. */
const UNKNOWN_CODES = Array.from({ length: 255 }, (_, i) => i + 1).filter((c) => !ATTRIBUTES.has(c));
export const arbUnknown = fc
  .uniqueArray(
    fc.record({
      code: fc.constantFrom(...UNKNOWN_CODES),
      flags: fc.constantFrom(0x80, 0xc0, 0xe0, 0x90, 0xd0),
      value: fc.uint8Array({ maxLength: 300 }),
    }),
    { selector: (u) => u.code, maxLength: 3 },
  )
  // Encoded in ascending type code (RFC 4271 §5), so that is the order they decode in.
  .map((list) => list.map((u) => ({ ...u, flags: u.value.length > 255 ? u.flags | 0x10 : u.flags })).sort((a, b) => a.code - b.code));

export const arbMpReach = fc.oneof(
  fc.record({
    afi: fc.constant(2),
    safi: fc.constant(1),
    nextHops: fc.oneof(fc.tuple(arbIpv6), fc.tuple(arbIpv6, arbIpv6)).map((t) => [...t]),
    nlri: fc.array(arbPrefix('ipv6'), { maxLength: 20 }),
  }),
  fc.record({
    afi: fc.constant(1),
    safi: fc.constant(1),
    nextHops: fc.oneof(fc.tuple(arbIpv4), fc.tuple(arbIpv6), fc.tuple(arbIpv6, arbIpv6)).map((t) => [...t]),
    nlri: fc.array(arbPrefix('ipv4'), { maxLength: 20 }),
  }),
);
export const arbMpUnreach = fc.oneof(
  fc.record({ afi: fc.constant(2), safi: fc.constant(1), withdrawn: fc.array(arbPrefix('ipv6'), { maxLength: 20 }) }),
  fc.record({ afi: fc.constant(1), safi: fc.constant(1), withdrawn: fc.array(arbPrefix('ipv4'), { maxLength: 20 }) }),
);

/**
 * One arbitrary per attribute field: every row of the attribute table must have one here (the
 * round-trip test checks). On a 2-octet session, AS numbers in AS_PATH/AGGREGATOR stay below
 * 65536 (the encoder would otherwise add AS4_* itself: see the reconstruction test).
 */
export function attributeArbitraries(opts: CodecOptions): { [K in keyof PathAttributes]-?: fc.Arbitrary<NonNullable<PathAttributes[K]>> } {
  const asn = opts.fourOctetAs ? u32 : u16;
  return {
    origin: fc.constantFrom('igp', 'egp', 'incomplete'),
    asPath: arbAsPath(asn),
    nextHop: arbIpv4,
    med: u32,
    localPref: u32,
    atomicAggregate: fc.constant(true),
    aggregator: arbAggregator(asn),
    communities: fc.array(u32, { minLength: 1, maxLength: 20 }),
    extendedCommunities: fc.array(arbExtCommunity, { minLength: 1, maxLength: 10 }),
    largeCommunities: fc.array(arbLarge, { minLength: 1, maxLength: 10 }),
    // RFC 6793: AS4_* travel only between 2-octet sessions; an empty AS4_PATH is never sent.
    as4Path: arbAsPath(u32, false).filter((p) => p.length > 0),
    as4Aggregator: arbAggregator(u32),
    mpReach: arbMpReach,
    mpUnreach: arbMpUnreach,
    unknown: arbUnknown.filter((u) => u.length > 0),
  };
}

/** Attributes for an UPDATE that decodes back exactly (RFC 7606 never triggers). */
export function arbAttributes(opts: CodecOptions, withNlri: boolean): fc.Arbitrary<PathAttributes> {
  const a = attributeArbitraries(opts);
  const { origin, asPath, nextHop, as4Path, as4Aggregator, ...rest } = a;
  return fc
    .record(
      {
        ...rest,
        origin,
        asPath,
        nextHop,
        ...(opts.fourOctetAs ? {} : { as4Path, as4Aggregator }),
      },
      { requiredKeys: withNlri ? ['origin', 'asPath', 'nextHop'] : [] },
    )
    .map((r) => {
      // An MP_REACH_NLRI with prefixes needs ORIGIN and AS_PATH too (RFC 7606 §3 d).
      if (r.mpReach && r.mpReach.nlri.length > 0 && (!r.origin || !r.asPath)) {
        return { ...r, origin: r.origin ?? 'igp', asPath: r.asPath ?? [] };
      }
      return r;
    });
}

export function arbUpdate(opts: CodecOptions): fc.Arbitrary<UpdateMessage> {
  return fc.boolean().chain((withNlri) =>
    fc.record({
      type: fc.constant(MessageType.Update as const),
      withdrawn: fc.array(arbPrefix('ipv4'), { maxLength: 20 }),
      attributes: arbAttributes(opts, withNlri),
      nlri: withNlri ? fc.array(arbPrefix('ipv4'), { minLength: 1, maxLength: 20 }) : fc.constant([]),
    }),
  );
}

const KNOWN_CAP_CODES = new Set([1, 2, 5, 6, 64, 65, 70]);
export const arbCapability: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ kind: fc.constant('multiprotocol' as const), afi: u16, safi: fc.integer({ min: 0, max: 255 }) }),
  fc.constant({ kind: 'route-refresh' as const }),
  fc.record({
    kind: fc.constant('extended-next-hop' as const),
    entries: fc.array(fc.record({ afi: u16, safi: u16, nextHopAfi: u16 }), { minLength: 1, maxLength: 4 }),
  }),
  fc.constant({ kind: 'extended-message' as const }),
  fc
    .record({
      kind: fc.constant('graceful-restart' as const),
      restarting: fc.boolean(),
      restartTimeSec: fc.integer({ min: 0, max: 4095 }),
      notification: fc.constantFrom(true, undefined),
      families: fc.array(fc.record({ afi: u16, safi: fc.integer({ min: 0, max: 255 }), forwardingPreserved: fc.boolean() }), { maxLength: 3 }),
    })
    .map(({ notification, ...c }) => (notification ? { ...c, notification } : c)),
  fc.record({ kind: fc.constant('four-octet-as' as const), asn: u32 }),
  fc.constant({ kind: 'enhanced-route-refresh' as const }),
  fc.record({
    kind: fc.constant('unknown' as const),
    code: fc.integer({ min: 0, max: 255 }).filter((c) => !KNOWN_CAP_CODES.has(c)),
    value: fc.uint8Array({ maxLength: 40 }),
  }),
);

export const arbOpen: fc.Arbitrary<OpenMessage> = fc.record({
  type: fc.constant(MessageType.Open as const),
  version: fc.constant(4),
  myAs: u16,
  holdTimeSec: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
  routerId: arbIpv4.filter((a) => a !== '0.0.0.0'),
  // Up to 40 capabilities: long lists need RFC 9072's extended parameter length.
  capabilities: fc.array(arbCapability, { maxLength: 40 }),
});
