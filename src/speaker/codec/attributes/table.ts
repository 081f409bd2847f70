/**
 * The path attribute table, indexed by type code (as BIRD's bgp_attr_table): name, expected
 * flags, RFC 7606 error approach, decoder and encoder per attribute. The UPDATE codec walks
 * this table; adding an attribute is adding a row. Attributes without a row (ORIGINATOR_ID,
 * CLUSTER_LIST, AIGP, ...) are kept raw in PathAttributes.unknown.
 *
 * Error approaches follow RFC 7606 §7: treat-as-withdraw for attributes that shape the route,
 * attribute discard for informational ones (ATOMIC_AGGREGATE, AGGREGATOR, and AS4_* per
 * RFC 6793 §6), session reset for MP_REACH/MP_UNREACH.
 */
import { copyBytes } from '../bytes.js';
import type { Origin } from '../../../backend/types.js';
import { formatIpv4, parseIpv4 } from '../address.js';
import { CodecInputError } from '../errors.js';
import { AS_TRANS } from '../types.js';
import { decodeAsPath, encodeAsPath } from './as-path.js';
import {
  AttrCode,
  OPTIONAL_NON_TRANSITIVE,
  OPTIONAL_TRANSITIVE,
  WELL_KNOWN,
  attrError,
  defineAttribute,
  expectLength,
  expectMultiple,
  putU32,
  u16,
  u32,
  type AttrContext,
  type AttributeCodec,
} from './codec.js';
import { decodeMpReach, decodeMpUnreach, encodeMpReach, encodeMpUnreach } from './mp.js';

const ORIGINS: Origin[] = ['igp', 'egp', 'incomplete'];

function decodeU32(name: string) {
  return (v: Uint8Array, ctx: AttrContext): number => {
    expectLength(ctx, name, v, 4);
    return u32(v, 0);
  };
}

function decodeAggregator(v: Uint8Array, asnSize: 2 | 4, ctx: AttrContext, name: string): { asn: number; address: string } {
  expectLength(ctx, name, v, asnSize + 4);
  return { asn: asnSize === 2 ? u16(v, 0) : u32(v, 0), address: formatIpv4(v, asnSize) };
}

function encodeAggregator(a: { asn: number; address: string }, asnSize: 2 | 4): Uint8Array {
  const out = new Uint8Array(asnSize + 4);
  if (asnSize === 2) {
    const asn = a.asn > 0xffff ? AS_TRANS : a.asn;
    out[0] = asn >> 8;
    out[1] = asn & 0xff;
  } else {
    putU32(out, 0, a.asn);
  }
  out.set(parseIpv4(a.address), asnSize);
  return out;
}

function decodeU32List(v: Uint8Array): number[] {
  const out = new Array<number>(v.length >> 2);
  for (let i = 0; i < out.length; i++) out[i] = u32(v, 4 * i);
  return out;
}

function encodeU32List(list: number[]): Uint8Array {
  const out = new Uint8Array(4 * list.length);
  list.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new CodecInputError('BGP_ENCODE_BAD_VALUE', `not a 32-bit value: ${n}`);
    putU32(out, 4 * i, n);
  });
  return out;
}

/** Absent (undefined) for an empty list: RFC 7606 §7.8 makes a zero-length COMMUNITIES malformed. */
const nonEmpty = (out: Uint8Array): Uint8Array | undefined => (out.length ? out : undefined);

const ROWS: AttributeCodec[] = [
  defineAttribute({
    code: AttrCode.Origin,
    name: 'ORIGIN',
    flags: WELL_KNOWN,
    field: 'origin',
    onError: 'treat-as-withdraw', // RFC 7606 §7.1
    decode(v, ctx) {
      expectLength(ctx, 'ORIGIN', v, 1);
      const origin = ORIGINS[v[0] ?? 0];
      if (!origin) throw attrError('BGP_UPDATE_INVALID_ORIGIN', ctx, `ORIGIN ${v[0]}`);
      return origin;
    },
    encode: (o) => Uint8Array.of(ORIGINS.indexOf(o)),
  }),
  defineAttribute({
    code: AttrCode.AsPath,
    name: 'AS_PATH',
    flags: WELL_KNOWN,
    field: 'asPath',
    onError: 'treat-as-withdraw', // RFC 7606 §7.2
    decode: (v, ctx) => decodeAsPath(v, ctx.opts.fourOctetAs ? 4 : 2, ctx, 'AS_PATH'),
    // An empty AS_PATH (iBGP origination) is a zero-length attribute, not an absent one.
    encode: (segs, opts) => encodeAsPath(segs, opts.fourOctetAs ? 4 : 2),
  }),
  defineAttribute({
    code: AttrCode.NextHop,
    name: 'NEXT_HOP',
    flags: WELL_KNOWN,
    field: 'nextHop',
    onError: 'treat-as-withdraw', // RFC 7606 §7.3
    decode(v, ctx) {
      expectLength(ctx, 'NEXT_HOP', v, 4);
      return formatIpv4(v, 0);
    },
    encode: (nh) => parseIpv4(nh),
  }),
  defineAttribute({
    code: AttrCode.Med,
    name: 'MULTI_EXIT_DISC',
    flags: OPTIONAL_NON_TRANSITIVE,
    field: 'med',
    onError: 'treat-as-withdraw', // RFC 7606 §7.4
    decode: decodeU32('MULTI_EXIT_DISC'),
    encode: (n) => encodeU32List([n]),
  }),
  defineAttribute({
    code: AttrCode.LocalPref,
    name: 'LOCAL_PREF',
    flags: WELL_KNOWN,
    field: 'localPref',
    onError: 'treat-as-withdraw', // RFC 7606 §7.5
    decode: decodeU32('LOCAL_PREF'),
    encode: (n) => encodeU32List([n]),
  }),
  defineAttribute({
    code: AttrCode.AtomicAggregate,
    name: 'ATOMIC_AGGREGATE',
    flags: WELL_KNOWN,
    field: 'atomicAggregate',
    onError: 'attribute-discard', // RFC 7606 §7.6
    decode(v, ctx) {
      expectLength(ctx, 'ATOMIC_AGGREGATE', v, 0);
      return true;
    },
    encode: (on) => (on ? new Uint8Array(0) : undefined),
  }),
  defineAttribute({
    code: AttrCode.Aggregator,
    name: 'AGGREGATOR',
    flags: OPTIONAL_TRANSITIVE,
    field: 'aggregator',
    onError: 'attribute-discard', // RFC 7606 §7.7
    decode: (v, ctx) => decodeAggregator(v, ctx.opts.fourOctetAs ? 4 : 2, ctx, 'AGGREGATOR'),
    encode: (a, opts) => encodeAggregator(a, opts.fourOctetAs ? 4 : 2),
  }),
  defineAttribute({
    code: AttrCode.Communities,
    name: 'COMMUNITIES',
    flags: OPTIONAL_TRANSITIVE,
    field: 'communities',
    onError: 'treat-as-withdraw', // RFC 7606 §7.8
    decode(v, ctx) {
      expectMultiple(ctx, 'COMMUNITIES', v, 4);
      return decodeU32List(v);
    },
    encode: (list) => nonEmpty(encodeU32List(list)),
  }),
  defineAttribute({
    code: AttrCode.MpReach,
    name: 'MP_REACH_NLRI',
    flags: OPTIONAL_NON_TRANSITIVE,
    field: 'mpReach',
    onError: 'session-reset', // RFC 7606 §7.11
    decode: decodeMpReach,
    encode: encodeMpReach,
  }),
  defineAttribute({
    code: AttrCode.MpUnreach,
    name: 'MP_UNREACH_NLRI',
    flags: OPTIONAL_NON_TRANSITIVE,
    field: 'mpUnreach',
    onError: 'session-reset', // RFC 7606 §7.11
    decode: decodeMpUnreach,
    encode: encodeMpUnreach,
  }),
  defineAttribute({
    code: AttrCode.ExtendedCommunities,
    name: 'EXTENDED_COMMUNITIES',
    flags: OPTIONAL_TRANSITIVE,
    field: 'extendedCommunities',
    onError: 'treat-as-withdraw', // RFC 7606 §7.14
    decode(v, ctx) {
      expectMultiple(ctx, 'EXTENDED_COMMUNITIES', v, 8);
      const out: Uint8Array[] = [];
      for (let i = 0; i < v.length; i += 8) out.push(copyBytes(v, i, i + 8));
      return out;
    },
    encode(list) {
      const out = new Uint8Array(8 * list.length);
      list.forEach((c, i) => {
        if (c.length !== 8) throw new CodecInputError('BGP_ENCODE_BAD_COMMUNITY', `extended community of ${c.length} octets`);
        out.set(c, 8 * i);
      });
      return nonEmpty(out);
    },
  }),
  defineAttribute({
    code: AttrCode.As4Path,
    name: 'AS4_PATH',
    flags: OPTIONAL_TRANSITIVE,
    field: 'as4Path',
    onError: 'attribute-discard', // RFC 6793 §6
    decode(v, ctx) {
      // RFC 6793 §3: between two 4-octet speakers AS4_PATH has no meaning and is discarded.
      if (ctx.opts.fourOctetAs) throw attrError('BGP_UPDATE_OPTIONAL_ATTRIBUTE', ctx, 'AS4_PATH on a 4-octet AS session');
      // An empty AS4_PATH says nothing and is never sent (found by the fuzz test): malformed.
      if (v.length === 0) throw attrError('BGP_UPDATE_ATTRIBUTE_LENGTH', ctx, 'empty AS4_PATH');
      return decodeAsPath(v, 4, ctx, 'AS4_PATH');
    },
    encode: (segs) => nonEmpty(encodeAsPath(segs, 4)),
  }),
  defineAttribute({
    code: AttrCode.As4Aggregator,
    name: 'AS4_AGGREGATOR',
    flags: OPTIONAL_TRANSITIVE,
    field: 'as4Aggregator',
    onError: 'attribute-discard', // RFC 6793 §6
    decode(v, ctx) {
      if (ctx.opts.fourOctetAs) throw attrError('BGP_UPDATE_OPTIONAL_ATTRIBUTE', ctx, 'AS4_AGGREGATOR on a 4-octet AS session');
      return decodeAggregator(v, 4, ctx, 'AS4_AGGREGATOR');
    },
    encode: (a) => encodeAggregator(a, 4),
  }),
  defineAttribute({
    code: AttrCode.LargeCommunity,
    name: 'LARGE_COMMUNITY',
    flags: OPTIONAL_TRANSITIVE,
    field: 'largeCommunities',
    onError: 'treat-as-withdraw', // RFC 8092 §6
    decode(v, ctx) {
      expectMultiple(ctx, 'LARGE_COMMUNITY', v, 12);
      const out: Array<[number, number, number]> = [];
      for (let i = 0; i < v.length; i += 12) out.push([u32(v, i), u32(v, i + 4), u32(v, i + 8)]);
      return out;
    },
    encode: (list) => nonEmpty(encodeU32List(list.flat())),
  }),
];

/** Rows by type code. */
export const ATTRIBUTES: ReadonlyMap<number, AttributeCodec> = new Map(ROWS.map((r) => [r.code, r]));

/** Rows in ascending type code: the order attributes are encoded in (RFC 4271 §5 SHOULD). */
export const ATTRIBUTES_IN_ORDER: readonly AttributeCodec[] = [...ROWS].sort((a, b) => a.code - b.code);
