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
 */
import type { AddressFamily, BackendOptions, VipRoute } from '../backend/types.js';
import { AFI_IP, AFI_IP6, SAFI_UNICAST, type ApiDestination, type ApiFamily, type ApiPath } from './api/types.js';
import {
  attributesKey,
  decodeAttributes,
  decodeNlri,
  encodeAttributes,
  encodeNlri,
  formatPrefix,
  parseIpv4,
  parsePrefix,
  type OriginatedAttributes,
} from './wire.js';

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
  /** Canonical attributes (wire.attributesKey): equal keys, equal paths. */
  key: string;
  path: ApiPath;
}

function parseCommunity(text: string): number {
  const m = /^(\d+):(\d+)$/.exec(text);
  const hi = Number(m?.[1]);
  const lo = Number(m?.[2]);
  if (!m || hi > 0xffff || lo > 0xffff) throw new Error(`invalid community ${text}`);
  return hi * 0x10000 + lo;
}

function parseLargeCommunity(text: string): [number, number, number] {
  const parts = text.split(':').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 0xffffffff)) throw new Error(`invalid large community ${text}`);
  return parts as [number, number, number];
}

/** RFC 4360 / 5668: "rt:ASN:N", "rt:IPv4:N", "soo:ASN:N" (2- or 4-octet AS), or 16 hex digits. */
export function parseExtendedCommunity(text: string): Uint8Array {
  if (/^[0-9a-fA-F]{16}$/.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'));
  const m = /^(rt|soo):([^:]+):(\d+)$/i.exec(text);
  if (!m) throw new Error(`invalid extended community ${text}`);
  const subtype = m[1]?.toLowerCase() === 'rt' ? 0x02 : 0x03;
  const admin = m[2] ?? '';
  const local = Number(m[3]);
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  if (admin.includes('.')) {
    if (local > 0xffff) throw new Error(`invalid extended community ${text}: local part over 65535`);
    out[0] = 0x01; // IPv4-address-specific (RFC 4360 §3.2)
    out.set(parseIpv4(admin), 2);
    dv.setUint16(6, local);
  } else if (Number(admin) > 0xffff) {
    if (local > 0xffff) throw new Error(`invalid extended community ${text}: local part over 65535`);
    out[0] = 0x02; // four-octet-AS-specific (RFC 5668)
    dv.setUint32(2, Number(admin));
    dv.setUint16(6, local);
  } else {
    out[0] = 0x00; // two-octet-AS-specific (RFC 4360 §3.1)
    dv.setUint16(2, Number(admin));
    dv.setUint32(4, local);
  }
  out[1] = subtype;
  return out;
}

function originatedAttributes(route: VipRoute, ctx: PathContext): OriginatedAttributes {
  const a = route.attributes;
  // Unspecified next hop: GoBGP replaces it with the session's local address (next-hop-self for local paths).
  const nextHop = a.nextHop ?? ctx.nextHop[route.family] ?? (route.family === 'ipv4' ? '0.0.0.0' : '::');
  return {
    origin: a.origin,
    // GoBGP prepends the local AS itself towards eBGP peers; these are the extra copies.
    asPath: new Array<number>(a.asPathPrepend).fill(ctx.localAs),
    nextHop,
    med: a.med,
    localPref: a.localPref,
    communities: a.communities.map(parseCommunity),
    extendedCommunities: a.extendedCommunities.map(parseExtendedCommunity),
    largeCommunities: a.largeCommunities.map(parseLargeCommunity),
  };
}

/** The API path vipcast adds for a VIP (marked with VIPCAST_PATH_ID). Throws on an invalid attribute text. */
export function desiredPath(route: VipRoute, ctx: PathContext): OwnPath {
  const prefix = parsePrefix(route.prefix);
  const pattrs = encodeAttributes(originatedAttributes(route, ctx), prefix);
  const path: ApiPath = {
    family: FAMILIES[prefix.family],
    nlri_binary: encodeNlri(prefix),
    pattrs_binary: pattrs,
    identifier: VIPCAST_PATH_ID,
    // v4 takes the path's age from here (v3 uses the time of the call); unset it shows as 1970.
    age: { seconds: Math.floor(Date.now() / 1000) },
  };
  // The key goes through the decoder, exactly like a listed path's, so equal meaning is equal key.
  return { prefix: formatPrefix(prefix), family: prefix.family, key: attributesKey(decodeAttributes(pattrs)), path };
}

/** Canonical prefix text, as OwnPath.prefix uses. */
export const canonicalPrefix = (text: string): string => formatPrefix(parsePrefix(text));

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
      const prefix = formatPrefix(decodeNlri(family, p.nlri_binary));
      // Withdrawals echo the attributes GoBGP holds, so DeletePath matches even for IPv6 (MP_REACH carries the next hop).
      const path: ApiPath = { family: FAMILIES[family], nlri_binary: Uint8Array.from(p.nlri_binary), pattrs_binary: pattrs, identifier: VIPCAST_PATH_ID };
      out.push({ prefix, family, key: attributesKey(decodeAttributes(pattrs)), path });
    }
  }
  return out;
}

export const withdrawal = (p: OwnPath): ApiPath => ({ ...p.path, is_withdraw: true });
