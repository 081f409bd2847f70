/**
 * vipcast's paths in GoBGP: from a VipRoute to an API Path, and back from ListPath.
 *
 * How vipcast recognises its own paths: the RFC 7911 path identifier. Every path vipcast adds
 * carries identifier VIPCAST_PATH_ID ("vipc" in ASCII). GoBGP keeps it with the path in the global
 * RIB (a local path is keyed by prefix *and* identifier) and returns it from ListPath, so it
 * survives a `kill -9` of vipcast; it is never sent to peers (without ADD-PATH negotiated the NLRI
 * goes out without an identifier, and with it GoBGP sends its own local identifier). Because the
 * identifier is part of the key, a path an operator adds for the same prefix (`gobgp global rib
 * add`, identifier 0) is a separate path that vipcast's AddPath never replaces and its DeletePath
 * never removes. A community marker would do neither: it is visible to every router, and an
 * AddPath with identifier 0 would implicitly replace the operator's path.
 *
 * Paths travel as raw BGP bytes (`nlri_binary`, `pattrs_binary`: one attribute TLV per element),
 * which GoBGP v3 and v4 both accept on AddPath/DeletePath/AddPathStream and return from ListPath
 * (enable_*_binary): one encoding, the speaker's codec, serves both API generations and both
 * backends, and drift repair decodes what the daemon holds with the same codec.
 */
import type { AddressFamily, BackendOptions, VipRoute } from '../backend/types.js';
import {
  canonicalPrefix as codecCanonicalPrefix,
  decodeMessage,
  decodePrefixes,
  encodePathAttributes,
  formatPrefix,
  MessageType,
  parseCommunity,
  parseExtendedCommunity,
  parseLargeCommunity,
  parsePrefix,
  type CodecOptions,
  type OutboundRoute,
  type PathAttributes,
  type Prefix,
} from '../speaker/codec/index.js';
import { AFI_IP, AFI_IP6, SAFI_UNICAST, type ApiDestination, type ApiFamily, type ApiPath } from './api/types.js';

/** 0x76697063 = "vipc". */
export const VIPCAST_PATH_ID = 0x76697063;

export const FAMILIES: Record<AddressFamily, ApiFamily> = {
  ipv4: { afi: AFI_IP, safi: SAFI_UNICAST },
  ipv6: { afi: AFI_IP6, safi: SAFI_UNICAST },
};

export interface PathContext {
  localAs: number;
  nextHop: BackendOptions['nextHop'];
}

/** A path of ours, as desired or as found in the daemon. */
export interface OwnPath {
  prefix: string;
  family: AddressFamily;
  /** The attribute TLVs sorted by type code, as hex: equal bytes, equal paths (the fast check). */
  raw: string;
  /** Canonical meaning of the attributes (attributesKey), decoded on first use: the slow check when the bytes differ. */
  key(): string;
  path: ApiPath;
}

/** Two paths agree when their attributes are the same bytes or, failing that, mean the same. */
export const samePath = (a: OwnPath, b: OwnPath): boolean => a.raw === b.raw || a.key() === b.key();

function ownPath(prefix: Prefix, nlri: Uint8Array, pattrs: Uint8Array[], path: ApiPath, raw = rawKey(pattrs)): OwnPath {
  let key: string | undefined;
  return {
    prefix: prefix.prefix,
    family: prefix.family,
    raw,
    key: () => (key ??= attributesKey(prefix, nlri, pattrs)),
    path,
  };
}

/**
 * GoBGP stores what we sent and serialises it back unchanged except for the order (it moves
 * NEXT_HOP/MP_REACH last), so sorting by type code makes the bytes comparable without decoding.
 */
function rawKey(pattrs: Uint8Array[]): string {
  return pattrs
    .map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('hex'))
    .sort()
    .join('.');
}

/**
 * The attribute bytes come from the speaker's codec (src/speaker/codec), so both backends send
 * the same encoding. GoBGP decodes AS_PATH as 4-octet first and takes the next hop from NEXT_HOP
 * (IPv4) or MP_REACH_NLRI (IPv6), which is what these options produce.
 */
export const GOBGP_CODEC_OPTIONS: CodecOptions = { fourOctetAs: true, extendedMessage: true, extendedNextHopIpv4: false };

function outboundRoute(route: VipRoute, ctx: PathContext, prefix: Prefix): OutboundRoute {
  const a = route.attributes;
  return {
    prefix,
    origin: a.origin,
    // GoBGP prepends the local AS itself towards eBGP peers; these are the extra copies.
    asPath: new Array<number>(a.asPathPrepend).fill(ctx.localAs),
    // Unspecified: GoBGP replaces it with the session's local address (next-hop-self for local paths).
    nextHop: a.nextHop ?? ctx.nextHop[route.family] ?? (route.family === 'ipv4' ? '0.0.0.0' : '::'),
    med: a.med,
    localPref: a.localPref,
    communities: a.communities.map(parseCommunity),
    extendedCommunities: a.extendedCommunities.map(parseExtendedCommunity),
    largeCommunities: a.largeCommunities.map(parseLargeCommunity),
  };
}

export type ParsedPrefix = ReturnType<typeof parsePrefix>;

/**
 * The NLRI of a parsed prefix (RFC 4271 §4.3: the length octet, then the octets the length
 * covers; parsePrefix cleared the host bits), from the bytes already parsed rather than parsing
 * the text a second time as encodeNlri would: one of the per-route costs of a bulk apply.
 */
function nlriOf(p: ParsedPrefix): Buffer {
  const n = (p.length + 7) >> 3;
  const out = Buffer.allocUnsafe(1 + n);
  out[0] = p.length;
  for (let i = 0; i < n; i++) out[1 + i] = p.bytes[i] ?? 0;
  return out;
}

/**
 * Encoded attributes shared by IPv4 routes with equal RouteAttributes, keyed by their JSON: many
 * VIPs usually share a few attribute sets, and for IPv4 the attribute bytes do not depend on the
 * prefix (an IPv6 route's MP_REACH_NLRI carries its prefix, so those are encoded one by one).
 */
export type SharedAttributes = Map<string, { pattrs: Uint8Array[]; raw: string }>;

/**
 * The API path vipcast adds for a VIP (marked with VIPCAST_PATH_ID). Throws on an invalid
 * attribute text. `shared` (with `attrJson`, JSON.stringify(route.attributes)) reuses the
 * encoding of equal IPv4 attributes; `parsed` is the route's prefix already parsed.
 */
export function desiredPath(route: VipRoute, ctx: PathContext, shared?: SharedAttributes, attrJson?: string, parsed?: ParsedPrefix): OwnPath {
  const pp = parsed ?? parsePrefix(route.prefix, route.family);
  const prefix: Prefix = { family: pp.family, prefix: formatPrefix(pp.family, pp.bytes, pp.length) };
  const nlri = nlriOf(pp);
  const shareKey = shared && prefix.family === 'ipv4' ? (attrJson ?? JSON.stringify(route.attributes)) : undefined;
  let enc = shareKey === undefined ? undefined : shared?.get(shareKey);
  if (!enc) {
    const pattrs = encodePathAttributes(outboundRoute(route, ctx, prefix), GOBGP_CODEC_OPTIONS);
    enc = { pattrs, raw: rawKey(pattrs) };
    if (shareKey !== undefined) shared?.set(shareKey, enc);
  }
  const { pattrs, raw } = enc;
  const path: ApiPath = {
    family: FAMILIES[prefix.family],
    nlri_binary: nlri,
    pattrs_binary: pattrs,
    identifier: VIPCAST_PATH_ID,
    // v4 takes the path's age from here (v3 uses the time of the call); unset it shows as 1970.
    age: { seconds: Math.floor(Date.now() / 1000) },
  };
  return ownPath(prefix, nlri, pattrs, path, raw);
}

const UPDATE_HEADER = 19;

/**
 * Decodes a path's attribute TLVs with the codec by framing them as the UPDATE they would be part
 * of (RFC 4271 §4.3), with the NLRI for IPv4 so the mandatory-attribute checks see a real route.
 */
export function decodeAttributes(prefix: Prefix, nlri: Uint8Array, tlvs: Uint8Array[]): PathAttributes {
  const attrs = Buffer.concat(tlvs);
  const tail = prefix.family === 'ipv4' ? nlri : new Uint8Array(0);
  const len = UPDATE_HEADER + 4 + attrs.length + tail.length;
  const msg = Buffer.alloc(len, 0xff);
  msg.writeUInt16BE(len, 16);
  msg[18] = MessageType.Update;
  msg.writeUInt16BE(0, 19); // no withdrawn routes
  msg.writeUInt16BE(attrs.length, 21);
  msg.set(attrs, 23);
  msg.set(tail, 23 + attrs.length);
  const decoded = decodeMessage(msg, GOBGP_CODEC_OPTIONS);
  if (decoded.type !== MessageType.Update) throw new Error('decoded a path as something other than an UPDATE');
  return decoded.attributes;
}

/**
 * A canonical text of a path's attributes, equal for equal meaning: list attributes sorted (their
 * order carries no meaning), next hop from NEXT_HOP or MP_REACH_NLRI. Drift repair compares these.
 */
export function attributesKey(prefix: Prefix, nlri: Uint8Array, tlvs: Uint8Array[]): string {
  const a = decodeAttributes(prefix, nlri, tlvs);
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  return [
    a.origin ?? '-',
    (a.asPath ?? []).map((s) => `${s.type}:${s.asns.join(' ')}`).join(';'),
    a.nextHop ?? a.mpReach?.nextHops.join(',') ?? '-',
    a.med ?? '-',
    a.localPref ?? '-',
    [...(a.communities ?? [])].sort((x, y) => x - y).join(','),
    (a.extendedCommunities ?? []).map(hex).sort().join(','),
    (a.largeCommunities ?? []).map((l) => l.join(':')).sort().join(','),
    (a.unknown ?? []).map((u) => `${u.code}=${hex(u.value)}`).join(','),
  ].join('|');
}

/** Canonical prefix text, as OwnPath.prefix uses. */
export const canonicalPrefix = (text: string): string => codecCanonicalPrefix(text).prefix;

/** A path from ListPath is ours when it carries our identifier and was originated locally (not learned from a peer). */
export function isOwnPath(p: ApiPath): boolean {
  return p.identifier === VIPCAST_PATH_ID && !p.source_asn && isLocalNeighbor(p.neighbor_ip);
}

/** GoBGP reports a local path's neighbor as "", "<nil>" (v3) or an unspecified address. */
function isLocalNeighbor(ip: string | undefined): boolean {
  return !ip || ip === '<nil>' || ip === 'invalid IP' || ip === '0.0.0.0' || ip === '::';
}

/** Our paths among ListPath's destinations for one family. */
export function ownPaths(family: AddressFamily, destinations: ApiDestination[]): OwnPath[] {
  const out: OwnPath[] = [];
  for (const d of destinations) {
    for (const p of d.paths ?? []) {
      if (!isOwnPath(p) || !p.nlri_binary) continue;
      const pattrs = (p.pattrs_binary ?? []).map((b) => Uint8Array.from(b));
      const nlri = Uint8Array.from(p.nlri_binary);
      const prefix = decodePrefixes(nlri, 0, nlri.length, family, (d) => new Error(`ListPath returned a bad NLRI for ${d}`))[0];
      if (!prefix) continue;
      // Withdrawals echo the attributes GoBGP holds, so DeletePath matches even for IPv6 (MP_REACH carries the next hop).
      const path: ApiPath = { family: FAMILIES[family], nlri_binary: nlri, pattrs_binary: pattrs, identifier: VIPCAST_PATH_ID };
      out.push(ownPath(prefix, nlri, pattrs, path));
    }
  }
  return out;
}

export const withdrawal = (p: OwnPath): ApiPath => ({ ...p.path, is_withdraw: true });
