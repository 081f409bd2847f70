/**
 * MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 §3, §4) for IPv4 and IPv6 unicast. The next hop
 * is one address (4 or 16 octets) or an IPv6 global plus link-local (32 octets, RFC 2545 §3);
 * IPv4 NLRI with an IPv6 next hop is RFC 8950. Any error here resets the session (RFC 7606
 * §7.11: treat-as-withdraw is impossible once the NLRI themselves cannot be trusted) with
 * Optional Attribute Error and the attribute as data (RFC 4271 §6.3).
 */
import type { AddressFamily } from '../../../backend/types.js';
import { formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into } from '../address.js';
import { CodecInputError } from '../errors.js';
import { decodePrefixes, encodedPrefixSize, writePrefix } from '../prefix.js';
import { AFI_IPV4, AFI_IPV6, SAFI_UNICAST, type PathAttributes, type Prefix } from '../types.js';
import { attrError, u16, type AttrContext } from './codec.js';

export type MpReach = NonNullable<PathAttributes['mpReach']>;
export type MpUnreach = NonNullable<PathAttributes['mpUnreach']>;

export function familyOfAfi(afi: number, safi: number): AddressFamily | undefined {
  if (safi !== SAFI_UNICAST) return undefined;
  if (afi === AFI_IPV4) return 'ipv4';
  if (afi === AFI_IPV6) return 'ipv6';
  return undefined;
}

export const afiOf = (family: AddressFamily): number => (family === 'ipv4' ? AFI_IPV4 : AFI_IPV6);

function checkFamily(afi: number, safi: number, ctx: AttrContext, name: string): AddressFamily {
  const family = familyOfAfi(afi, safi);
  // As GoBGP does: a family we never negotiate (we only offer unicast) is a session error.
  if (!family) throw attrError('BGP_UPDATE_OPTIONAL_ATTRIBUTE', ctx, `${name} for unsupported AFI ${afi} SAFI ${safi}`);
  return family;
}

function decodeNextHops(v: Uint8Array, start: number, len: number, afi: number, ctx: AttrContext): string[] {
  // RFC 4760 §3 lengths per AFI; 16/32 for IPv4 NLRI only with RFC 8950.
  if (len === 4 && afi === AFI_IPV4) return [formatIpv4(v, start)];
  if (len === 16) return [formatIpv6(v, start)];
  if (len === 32) return [formatIpv6(v, start), formatIpv6(v, start + 16)];
  throw attrError('BGP_UPDATE_OPTIONAL_ATTRIBUTE', ctx, `MP_REACH_NLRI next hop of ${len} octets for AFI ${afi}`);
}

export function decodeMpReach(v: Uint8Array, ctx: AttrContext): MpReach {
  if (v.length < 5) throw attrError('BGP_UPDATE_OPTIONAL_ATTRIBUTE', ctx, `MP_REACH_NLRI of ${v.length} octets`);
  const afi = u16(v, 0);
  const safi = v[2] ?? 0;
  const family = checkFamily(afi, safi, ctx, 'MP_REACH_NLRI');
  const nhLen = v[3] ?? 0;
  // Next hop, then the one reserved octet (formerly SNPA count, RFC 4760 §3: ignored on receipt).
  if (4 + nhLen + 1 > v.length) throw attrError('BGP_UPDATE_OPTIONAL_ATTRIBUTE', ctx, 'MP_REACH_NLRI next hop overruns the attribute');
  const nextHops = decodeNextHops(v, 4, nhLen, afi, ctx);
  const nlri = decodePrefixes(v, 5 + nhLen, v.length, family, (d) => attrError('BGP_UPDATE_OPTIONAL_ATTRIBUTE', ctx, `MP_REACH_NLRI: ${d}`));
  return { afi, safi, nextHops, nlri };
}

export function decodeMpUnreach(v: Uint8Array, ctx: AttrContext): MpUnreach {
  if (v.length < 3) throw attrError('BGP_UPDATE_OPTIONAL_ATTRIBUTE', ctx, `MP_UNREACH_NLRI of ${v.length} octets`);
  const afi = u16(v, 0);
  const safi = v[2] ?? 0;
  const family = checkFamily(afi, safi, ctx, 'MP_UNREACH_NLRI');
  const withdrawn = decodePrefixes(v, 3, v.length, family, (d) => attrError('BGP_UPDATE_OPTIONAL_ATTRIBUTE', ctx, `MP_UNREACH_NLRI: ${d}`));
  return { afi, safi, withdrawn };
}

/** Next-hop octets for MP_REACH_NLRI: 4 (IPv4), 16 (IPv6) or 32 (global + link-local). */
export function encodeNextHops(nextHops: string[]): Uint8Array {
  if (nextHops.length === 0 || nextHops.length > 2) throw new CodecInputError('BGP_ENCODE_BAD_VALUE', `MP_REACH_NLRI needs 1 or 2 next hops, got ${nextHops.length}`);
  const first = nextHops[0] ?? '';
  if (nextHops.length === 1 && !first.includes(':')) {
    const out = new Uint8Array(4);
    if (!parseIpv4Into(first, 0, first.length, out, 0)) throw new CodecInputError('BGP_ENCODE_BAD_ADDRESS', `bad next hop "${first}"`);
    return out;
  }
  const out = new Uint8Array(16 * nextHops.length);
  nextHops.forEach((nh, k) => {
    if (!parseIpv6Into(nh, 0, nh.length, out, 16 * k)) throw new CodecInputError('BGP_ENCODE_BAD_ADDRESS', `bad IPv6 next hop "${nh}"`);
  });
  return out;
}

function encodePrefixList(prefixes: Prefix[], family: AddressFamily, into: Uint8Array, off: number): number {
  for (const p of prefixes) {
    if (p.family !== family) throw new CodecInputError('BGP_ENCODE_BAD_PREFIX', `${p.prefix} in an ${family} MP attribute`);
    off = writePrefix(p, into, off);
  }
  return off;
}

const familyFor = (afi: number, safi: number): AddressFamily => {
  const f = familyOfAfi(afi, safi);
  if (!f) throw new CodecInputError('BGP_ENCODE_BAD_VALUE', `unsupported AFI ${afi} SAFI ${safi}`);
  return f;
};

export function encodeMpReach(m: MpReach): Uint8Array {
  const family = familyFor(m.afi, m.safi);
  const nh = encodeNextHops(m.nextHops);
  const room = m.nlri.length * encodedPrefixSize(family === 'ipv4' ? 32 : 128);
  const out = new Uint8Array(5 + nh.length + room);
  out[0] = m.afi >> 8;
  out[1] = m.afi & 0xff;
  out[2] = m.safi;
  out[3] = nh.length;
  out.set(nh, 4);
  out[4 + nh.length] = 0;
  const end = encodePrefixList(m.nlri, family, out, 5 + nh.length);
  return out.subarray(0, end);
}

export function encodeMpUnreach(m: MpUnreach): Uint8Array {
  const family = familyFor(m.afi, m.safi);
  const out = new Uint8Array(3 + m.withdrawn.length * encodedPrefixSize(family === 'ipv4' ? 32 : 128));
  out[0] = m.afi >> 8;
  out[1] = m.afi & 0xff;
  out[2] = m.safi;
  return out.subarray(0, encodePrefixList(m.withdrawn, family, out, 3));
}
