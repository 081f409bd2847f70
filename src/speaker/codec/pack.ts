/**
 * Outbound UPDATE building for originated routes.
 *
 * packUpdates groups routes whose attributes are identical, encodes each group's attribute block
 * once, writes every prefix straight into one preallocated buffer per group, then cuts that
 * buffer into as few UPDATEs as fit the session's maximum message size (RFC 4271 §4.3 NLRI for
 * IPv4, MP_REACH_NLRI for IPv6 and for IPv4 over an IPv6 next hop, RFC 8950). Withdrawals are
 * packed the same way (withdrawn routes field, MP_UNREACH_NLRI) and come first, so a prefix both
 * withdrawn and announced in one call ends up announced.
 *
 * encodePathAttributes / encodeNlri give the same bytes one route at a time for GoBGP's
 * `pattrs_binary` (one attribute per element) and `nlri_binary`.
 */
import type { AddressFamily } from '../../backend/types.js';
import { CodecInputError } from './errors.js';
import { maxMessageLength, writeHeader } from './header.js';
import { encodedPrefixSize, writePrefix } from './prefix.js';
import { AFI_IPV4, AFI_IPV6, HEADER_LENGTH, MessageType, SAFI_UNICAST, type CodecOptions, type OutboundRoute, type OutboundWithdrawal, type PathAttributes, type Prefix } from './types.js';
import { AttrCode, FLAG_EXTENDED_LENGTH, FLAG_OPTIONAL } from './attributes/codec.js';
import { encodeNextHops } from './attributes/mp.js';
import { encodeAttributeList } from './update.js';
import { encodeMessage } from './message.js';

/** How a route's NLRI travels: the IPv4 NLRI field, or MP_REACH_NLRI with this AFI. */
type Carrier = { kind: 'nlri' } | { kind: 'mp'; afi: number };

/** Fixed UPDATE overhead: header, withdrawn routes length, total path attribute length. */
const UPDATE_OVERHEAD = HEADER_LENGTH + 4;
/** MP attribute header with 2-octet length (always used: the value may exceed 255). */
const MP_ATTR_HEADER = 4;

function carrierOf(route: OutboundRoute, opts: CodecOptions): Carrier {
  const v6NextHop = route.nextHop.includes(':');
  if (route.prefix.family === 'ipv6') {
    if (!v6NextHop) throw new CodecInputError('BGP_ENCODE_NEXT_HOP_FAMILY', `IPv6 route ${route.prefix.prefix} with IPv4 next hop ${route.nextHop}`);
    return { kind: 'mp', afi: AFI_IPV6 };
  }
  if (!v6NextHop) return { kind: 'nlri' };
  // RFC 8950: IPv4 NLRI over an IPv6 next hop only where the capability was negotiated.
  if (!opts.extendedNextHopIpv4) throw new CodecInputError('BGP_ENCODE_NEXT_HOP_FAMILY', `IPv4 route ${route.prefix.prefix} with IPv6 next hop ${route.nextHop} needs RFC 8950`);
  return { kind: 'mp', afi: AFI_IPV4 };
}

const nextHopsOf = (route: OutboundRoute): string[] => (route.nextHopLinkLocal ? [route.nextHop, route.nextHopLinkLocal] : [route.nextHop]);

/** The route's attributes other than its NLRI (MP_REACH is built per message). */
function commonAttributes(route: OutboundRoute, carrier: Carrier): PathAttributes {
  const attrs: PathAttributes = {
    origin: route.origin,
    asPath: route.asPath.length ? [{ type: 'sequence', asns: route.asPath }] : [],
  };
  if (carrier.kind === 'nlri') attrs.nextHop = route.nextHop;
  if (route.med !== undefined) attrs.med = route.med;
  if (route.localPref !== undefined) attrs.localPref = route.localPref;
  if (route.communities.length) attrs.communities = route.communities;
  if (route.extendedCommunities.length) attrs.extendedCommunities = route.extendedCommunities;
  if (route.largeCommunities.length) attrs.largeCommunities = route.largeCommunities;
  return attrs;
}

/** A string equal for routes that must share one UPDATE (same carrier, same attributes). Hot: one per route. */
function groupKey(route: OutboundRoute, carrier: Carrier): string {
  let key = `${carrier.kind === 'mp' ? carrier.afi : 0}|${route.origin}|${route.nextHop}|${route.nextHopLinkLocal ?? ''}|${route.med ?? ''}|${route.localPref ?? ''}|`;
  for (const asn of route.asPath) key += `${asn} `;
  key += '|';
  for (const c of route.communities) key += `${c},`;
  key += '|';
  for (const l of route.largeCommunities) key += `${l[0]}:${l[1]}:${l[2]},`;
  key += '|';
  for (const c of route.extendedCommunities) {
    for (let i = 0; i < c.length; i++) key += `${c[i]}.`;
    key += ',';
  }
  return key;
}

/** One group's fixed bytes: attributes before and after the NLRI carrier. */
interface Template {
  carrier: Carrier;
  family: AddressFamily;
  /** Attribute TLVs that precede MP_REACH (all of them for the NLRI carrier). */
  before: Uint8Array;
  after: Uint8Array;
  /** MP_REACH value head: AFI, SAFI, next hop length, next hop, reserved. */
  mpHead?: Uint8Array;
}

function buildTemplate(route: OutboundRoute, carrier: Carrier, opts: CodecOptions): Template {
  const tlvs = encodeAttributeList(commonAttributes(route, carrier), opts);
  // Keep ascending type-code order around MP_REACH_NLRI (14), as RFC 4271 §5 suggests.
  const before = Buffer.concat(tlvs.filter((t) => (t[1] ?? 0) < AttrCode.MpReach));
  const after = Buffer.concat(tlvs.filter((t) => (t[1] ?? 0) > AttrCode.MpReach));
  if (carrier.kind === 'nlri') return { carrier, family: 'ipv4', before: Buffer.concat([before, after]), after: new Uint8Array(0) };
  const nh = encodeNextHops(nextHopsOf(route));
  const mpHead = new Uint8Array(5 + nh.length);
  mpHead.set([carrier.afi >> 8, carrier.afi & 0xff, SAFI_UNICAST, nh.length]);
  mpHead.set(nh, 4);
  return { carrier, family: carrier.afi === AFI_IPV4 ? 'ipv4' : 'ipv6', before, after, mpHead };
}

/** Prefixes written back to back into one buffer, with the end offset of each. */
interface PrefixRun {
  bytes: Uint8Array;
  ends: Uint32Array;
}

function writePrefixes(prefixes: Prefix[], family: AddressFamily): PrefixRun {
  const bytes = Buffer.allocUnsafe(prefixes.length * encodedPrefixSize(family === 'ipv4' ? 32 : 128));
  const ends = new Uint32Array(prefixes.length);
  let off = 0;
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i] as Prefix;
    if (p.family !== family) throw new CodecInputError('BGP_ENCODE_BAD_PREFIX', `${p.prefix} is not ${family}`);
    off = writePrefix(p, bytes, off);
    ends[i] = off;
  }
  return { bytes, ends };
}

/**
 * Cuts a run into chunks of at most `room` octets; calls emit(start, end) with byte offsets.
 * Every chunk holds at least one prefix (the caller made sure room >= 17).
 */
function chunk(run: PrefixRun, room: number, emit: (start: number, end: number) => void): void {
  let start = 0;
  let i = 0;
  const n = run.ends.length;
  while (i < n) {
    let end = start;
    while (i < n && (run.ends[i] as number) - start <= room) end = run.ends[i++] as number;
    emit(start, end);
    start = end;
  }
}

function checkRoom(room: number, what: string): void {
  if (room < encodedPrefixSize(128)) throw new CodecInputError('BGP_ENCODE_TOO_LONG', `${what}: attributes leave no room for NLRI`);
}

/** UPDATE: header, withdrawn, attributes (before + [MP attr header + head + prefixes] + after), NLRI. */
function assemble(opts: {
  withdrawn?: Uint8Array;
  before?: Uint8Array;
  mp?: { code: number; head: Uint8Array; prefixes: Uint8Array };
  after?: Uint8Array;
  nlri?: Uint8Array;
}): Buffer {
  const withdrawn = opts.withdrawn ?? new Uint8Array(0);
  const before = opts.before ?? new Uint8Array(0);
  const after = opts.after ?? new Uint8Array(0);
  const nlri = opts.nlri ?? new Uint8Array(0);
  const mpValueLen = opts.mp ? opts.mp.head.length + opts.mp.prefixes.length : 0;
  const attrLen = before.length + (opts.mp ? MP_ATTR_HEADER + mpValueLen : 0) + after.length;
  const length = UPDATE_OVERHEAD + withdrawn.length + attrLen + nlri.length;
  const out = Buffer.allocUnsafe(length);
  writeHeader(out, length, MessageType.Update);
  let i = HEADER_LENGTH;
  out.writeUInt16BE(withdrawn.length, i);
  out.set(withdrawn, i + 2);
  i += 2 + withdrawn.length;
  out.writeUInt16BE(attrLen, i);
  i += 2;
  out.set(before, i);
  i += before.length;
  if (opts.mp) {
    out[i] = FLAG_OPTIONAL | FLAG_EXTENDED_LENGTH;
    out[i + 1] = opts.mp.code;
    out.writeUInt16BE(mpValueLen, i + 2);
    out.set(opts.mp.head, i + 4);
    out.set(opts.mp.prefixes, i + 4 + opts.mp.head.length);
    i += MP_ATTR_HEADER + mpValueLen;
  }
  out.set(after, i);
  out.set(nlri, i + after.length);
  return out;
}

function packWithdrawals(withdrawals: OutboundWithdrawal[], max: number, out: Buffer[]): void {
  const v4 = withdrawals.filter((w) => w.prefix.family === 'ipv4').map((w) => w.prefix);
  const v6 = withdrawals.filter((w) => w.prefix.family === 'ipv6').map((w) => w.prefix);
  if (v4.length) {
    const run = writePrefixes(v4, 'ipv4');
    chunk(run, max - UPDATE_OVERHEAD, (s, e) => out.push(assemble({ withdrawn: run.bytes.subarray(s, e) })));
  }
  if (v6.length) {
    const run = writePrefixes(v6, 'ipv6');
    const head = Uint8Array.of(AFI_IPV6 >> 8, AFI_IPV6 & 0xff, SAFI_UNICAST);
    chunk(run, max - UPDATE_OVERHEAD - MP_ATTR_HEADER - head.length, (s, e) =>
      out.push(assemble({ mp: { code: AttrCode.MpUnreach, head, prefixes: run.bytes.subarray(s, e) } })),
    );
  }
}

/**
 * Encoded UPDATE messages announcing `routes` and withdrawing `withdrawals`, routes with
 * identical attributes sharing messages, none above the session's maximum message size.
 */
export function packUpdates(routes: OutboundRoute[], withdrawals: OutboundWithdrawal[], opts: CodecOptions): Buffer[] {
  const max = maxMessageLength(opts, MessageType.Update);
  const out: Buffer[] = [];
  packWithdrawals(withdrawals, max, out);

  // Group in first-seen order; the template (encoded attributes) is built once per group.
  const groups = new Map<string, { template: Template; prefixes: Prefix[] }>();
  for (const route of routes) {
    const carrier = carrierOf(route, opts);
    const key = groupKey(route, carrier);
    let g = groups.get(key);
    if (!g) {
      g = { template: buildTemplate(route, carrier, opts), prefixes: [] };
      groups.set(key, g);
    }
    g.prefixes.push(route.prefix);
  }

  for (const { template: t, prefixes } of groups.values()) {
    const run = writePrefixes(prefixes, t.family);
    if (t.carrier.kind === 'nlri') {
      const room = max - UPDATE_OVERHEAD - t.before.length;
      checkRoom(room, 'IPv4 UPDATE');
      chunk(run, room, (s, e) => out.push(assemble({ before: t.before, nlri: run.bytes.subarray(s, e) })));
    } else {
      const head = t.mpHead as Uint8Array;
      const room = Math.min(max - UPDATE_OVERHEAD - t.before.length - t.after.length - MP_ATTR_HEADER - head.length, 0xffff - head.length);
      checkRoom(room, 'MP_REACH_NLRI UPDATE');
      chunk(run, room, (s, e) => out.push(assemble({ before: t.before, mp: { code: AttrCode.MpReach, head, prefixes: run.bytes.subarray(s, e) }, after: t.after })));
    }
  }
  return out;
}

/**
 * End-of-RIB marker (RFC 4724 §2): an empty UPDATE for IPv4 unicast, an UPDATE with an empty
 * MP_UNREACH_NLRI for any other family.
 */
export function endOfRib(family: AddressFamily, opts: CodecOptions = NO_OPTIONS): Buffer {
  if (family === 'ipv4') return assemble({});
  // Short attribute header (flags 0x80), byte for byte what BIRD and FRR send.
  return encodeMessage({ type: MessageType.Update, withdrawn: [], attributes: { mpUnreach: { afi: AFI_IPV6, safi: SAFI_UNICAST, withdrawn: [] } }, nlri: [] }, opts);
}

const NO_OPTIONS: CodecOptions = { fourOctetAs: true, extendedMessage: false, extendedNextHopIpv4: false };

/**
 * One route's path attributes, one encoded attribute (flags, type, length, value) per element,
 * in ascending type code: NEXT_HOP for IPv4 over IPv4, else MP_REACH_NLRI carrying the next hop
 * and the route's own prefix. This is what GoBGP's AddPath takes as `pattrs_binary`; GoBGP keeps
 * 4-octet AS numbers internally, so pass fourOctetAs: true for it. Concatenate the elements for
 * a wire-format attribute block.
 */
export function encodePathAttributes(route: OutboundRoute, opts: CodecOptions): Buffer[] {
  const carrier = carrierOf(route, opts);
  const attrs = commonAttributes(route, carrier);
  if (carrier.kind === 'mp') attrs.mpReach = { afi: carrier.afi, safi: SAFI_UNICAST, nextHops: nextHopsOf(route), nlri: [route.prefix] };
  return encodeAttributeList(attrs, opts).map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength));
}
