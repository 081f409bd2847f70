/**
 * Raw BGP encoding of the paths vipcast originates, for GoBGP's `nlri_binary` / `pattrs_binary`
 * (one attribute TLV per element). Both API generations accept these bytes on AddPath, DeletePath
 * and AddPathStream and return them from ListPath (`enable_*_binary`), so one encoding serves v3
 * and v4 and drift repair compares what the daemon holds with what we would send, byte-level
 * semantics on both sides (see decodeAttributes).
 *
 * Only what vipcast originates: ORIGIN, AS_PATH (one AS_SEQUENCE, 4-octet ASNs: GoBGP's decoder
 * tries 4-octet first), NEXT_HOP or MP_REACH_NLRI (RFC 4760 §3, IPv6 unicast), MED, LOCAL_PREF,
 * COMMUNITIES (RFC 1997), EXTENDED COMMUNITIES (RFC 4360), LARGE_COMMUNITY (RFC 8092).
 * Why not the speaker's codec (src/speaker/codec): it was not committed when this backend was
 * written; this file is the one place to switch once it is (encodeAttributeList + encodeNlri).
 */
import type { AddressFamily, Origin } from '../backend/types.js';

export interface OriginatedAttributes {
  origin: Origin;
  /** AS_SEQUENCE; empty for none (GoBGP prepends its own AS towards eBGP peers). */
  asPath: number[];
  /** IPv4 for IPv4 routes, IPv6 for IPv6 routes; the unspecified address lets GoBGP use the session's local address. */
  nextHop: string;
  med?: number;
  localPref?: number;
  communities: number[];
  /** 8 bytes each. */
  extendedCommunities: Uint8Array[];
  largeCommunities: Array<[number, number, number]>;
}

const Code = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  Med: 4,
  LocalPref: 5,
  Communities: 8,
  MpReach: 14,
  ExtendedCommunities: 16,
  LargeCommunity: 32,
} as const;

const WELL_KNOWN = 0x40; // transitive, not optional (RFC 4271 §4.3)
const OPTIONAL = 0x80;
const OPTIONAL_TRANSITIVE = 0xc0;
const EXTENDED_LENGTH = 0x10;
const ORIGINS: Origin[] = ['igp', 'egp', 'incomplete'];

// ---- addresses and prefixes ----

export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  const out = new Uint8Array(4);
  if (parts.length !== 4) throw new Error(`invalid IPv4 address ${text}`);
  parts.forEach((p, i) => {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new Error(`invalid IPv4 address ${text}`);
    out[i] = n;
  });
  return out;
}

export function parseIpv6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`invalid IPv6 address ${text}`);
  const groups = (s: string): number[] => {
    if (s === '') return [];
    const words: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const v4 = parseIpv4(g);
        words.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        words.push(parseInt(g, 16));
      } else {
        throw new Error(`invalid IPv6 address ${text}`);
      }
    }
    return words;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) throw new Error(`invalid IPv6 address ${text}`);
  const words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

export function formatIpv4(b: Uint8Array): string {
  return Array.from(b.subarray(0, 4)).join('.');
}

/** RFC 5952 text (lower case, longest run of two or more zero groups as "::"). */
export function formatIpv6(b: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => ((b[i * 2] ?? 0) << 8) | (b[i * 2 + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

export interface ParsedPrefix {
  family: AddressFamily;
  address: Uint8Array;
  length: number;
}

export function parsePrefix(text: string): ParsedPrefix {
  const [addr = '', len] = text.split('/');
  const family: AddressFamily = addr.includes(':') ? 'ipv6' : 'ipv4';
  const address = family === 'ipv4' ? parseIpv4(addr) : parseIpv6(addr);
  const max = family === 'ipv4' ? 32 : 128;
  const length = len === undefined ? max : Number(len);
  if (!Number.isInteger(length) || length < 0 || length > max) throw new Error(`invalid prefix ${text}`);
  return { family, address, length };
}

export function formatPrefix(p: ParsedPrefix): string {
  return `${p.family === 'ipv4' ? formatIpv4(p.address) : formatIpv6(p.address)}/${p.length}`;
}

/** RFC 4271 §4.3 NLRI encoding: length in bits, then the significant octets. */
export function encodeNlri(p: ParsedPrefix): Uint8Array {
  const n = (p.length + 7) >> 3;
  const out = new Uint8Array(1 + n);
  out[0] = p.length;
  out.set(p.address.subarray(0, n), 1);
  return out;
}

export function decodeNlri(family: AddressFamily, b: Uint8Array): ParsedPrefix {
  const length = b[0] ?? 0;
  const address = new Uint8Array(family === 'ipv4' ? 4 : 16);
  address.set(b.subarray(1, 1 + ((length + 7) >> 3)));
  return { family, address, length };
}

// ---- attributes ----

function tlv(flags: number, code: number, value: Uint8Array): Uint8Array {
  const ext = value.length > 255;
  const out = new Uint8Array((ext ? 4 : 3) + value.length);
  out[0] = flags | (ext ? EXTENDED_LENGTH : 0);
  out[1] = code;
  if (ext) {
    out[2] = value.length >> 8;
    out[3] = value.length & 0xff;
  } else {
    out[2] = value.length;
  }
  out.set(value, ext ? 4 : 3);
  return out;
}

function u32s(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setUint32(i * 4, v >>> 0));
  return out;
}

function asPathValue(asns: number[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < asns.length; i += 255) {
    const seg = asns.slice(i, i + 255);
    parts.push(Uint8Array.of(2, seg.length), u32s(seg)); // 2 = AS_SEQUENCE (RFC 4271 §4.3)
  }
  return Buffer.concat(parts);
}

/** One TLV per attribute in type-code order, NEXT_HOP for IPv4, MP_REACH_NLRI for IPv6. */
export function encodeAttributes(a: OriginatedAttributes, prefix: ParsedPrefix): Uint8Array[] {
  const out: Uint8Array[] = [tlv(WELL_KNOWN, Code.Origin, Uint8Array.of(ORIGINS.indexOf(a.origin))), tlv(WELL_KNOWN, Code.AsPath, asPathValue(a.asPath))];
  if (prefix.family === 'ipv4') out.push(tlv(WELL_KNOWN, Code.NextHop, parseIpv4(a.nextHop)));
  if (a.med !== undefined) out.push(tlv(OPTIONAL, Code.Med, u32s([a.med])));
  if (a.localPref !== undefined) out.push(tlv(WELL_KNOWN, Code.LocalPref, u32s([a.localPref])));
  if (a.communities.length) out.push(tlv(OPTIONAL_TRANSITIVE, Code.Communities, u32s(a.communities)));
  if (prefix.family === 'ipv6') {
    // RFC 4760 §3: AFI 2, SAFI 1, next hop length 16, next hop, reserved 0, NLRI.
    const mp = Buffer.concat([Uint8Array.of(0, 2, 1, 16), parseIpv6(a.nextHop), Uint8Array.of(0), encodeNlri(prefix)]);
    out.push(tlv(OPTIONAL, Code.MpReach, mp));
  }
  if (a.extendedCommunities.length) out.push(tlv(OPTIONAL_TRANSITIVE, Code.ExtendedCommunities, Buffer.concat(a.extendedCommunities)));
  if (a.largeCommunities.length) out.push(tlv(OPTIONAL_TRANSITIVE, Code.LargeCommunity, u32s(a.largeCommunities.flat())));
  return out;
}

function readU32s(v: Uint8Array): number[] {
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return Array.from({ length: v.length >> 2 }, (_, i) => dv.getUint32(i * 4));
}

/** AS_PATH value with 4-octet ASNs (what GoBGP serialises), all segments flattened. */
function readAsPath(v: Uint8Array): number[] {
  const asns: number[] = [];
  for (let off = 0; off + 2 <= v.length; ) {
    const n = v[off + 1] ?? 0;
    asns.push(...readU32s(v.subarray(off + 2, off + 2 + n * 4)));
    off += 2 + n * 4;
  }
  return asns;
}

type Decoded = OriginatedAttributes & { other: number[] };

/** The decode side as a table by type code (RFC 4271 §5 and the community RFCs). */
const DECODERS: Record<number, (v: Uint8Array, a: Decoded) => void> = {
  [Code.Origin]: (v, a) => (a.origin = ORIGINS[v[0] ?? 2] ?? 'incomplete'),
  [Code.AsPath]: (v, a) => (a.asPath = readAsPath(v)),
  [Code.NextHop]: (v, a) => (a.nextHop = formatIpv4(v)),
  [Code.Med]: (v, a) => (a.med = readU32s(v)[0]),
  [Code.LocalPref]: (v, a) => (a.localPref = readU32s(v)[0]),
  [Code.Communities]: (v, a) => (a.communities = readU32s(v)),
  // AFI(2) SAFI(1) NH length(1) NH: the global address is the first 16 bytes (a link-local may follow).
  [Code.MpReach]: (v, a) => (a.nextHop = formatIpv6(v.subarray(4, 20))),
  [Code.ExtendedCommunities]: (v, a) => {
    for (let off = 0; off + 8 <= v.length; off += 8) a.extendedCommunities.push(v.slice(off, off + 8));
  },
  [Code.LargeCommunity]: (v, a) => {
    const w = readU32s(v);
    for (let i = 0; i + 3 <= w.length; i += 3) a.largeCommunities.push([w[i] ?? 0, w[i + 1] ?? 0, w[i + 2] ?? 0]);
  },
};

/** Decodes the attribute TLVs of a path (as ListPath returns them); attributes vipcast does not originate are listed in `other`. */
export function decodeAttributes(tlvs: Uint8Array[]): Decoded {
  const a: Decoded = { origin: 'incomplete', asPath: [], nextHop: '', communities: [], extendedCommunities: [], largeCommunities: [], other: [] };
  for (const t of tlvs) {
    const flags = t[0] ?? 0;
    const code = t[1] ?? 0;
    const decode = DECODERS[code];
    if (decode) decode(t.subarray(flags & EXTENDED_LENGTH ? 4 : 3), a);
    else a.other.push(code);
  }
  return a;
}

/**
 * A canonical text of the attributes, equal for equal meaning: list attributes sorted (their order
 * carries no meaning), addresses in canonical text. Drift repair compares these.
 */
export function attributesKey(a: OriginatedAttributes & { other?: number[] }): string {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  return [
    a.origin,
    a.asPath.join(' '),
    a.nextHop,
    a.med ?? '-',
    a.localPref ?? '-',
    [...a.communities].sort((x, y) => x - y).join(','),
    a.extendedCommunities.map(hex).sort().join(','),
    a.largeCommunities.map((l) => l.join(':')).sort().join(','),
    (a.other ?? []).join(','),
  ].join('|');
}
