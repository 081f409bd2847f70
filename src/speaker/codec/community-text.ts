/**
 * Text forms of communities, shared by the built-in speaker and the GoBGP backend:
 * - RFC 1997 communities: "65001:100" or a well-known name (IANA "BGP Well-known Communities":
 *   no-export, no-advertise, no-export-subconfed, graceful-shutdown = 65535:0 (RFC 8326),
 *   blackhole = 65535:666 (RFC 7999), ...) <-> uint32. Canonical text is always "asn:value".
 * - RFC 8092 large communities: "global:local1:local2".
 * - RFC 4360 / RFC 5668 extended communities: "rt:65001:100", "rt:192.0.2.1:5",
 *   "rt:4200000001:7", "soo:..." and 16 hex digits for anything else <-> 8 octets.
 */
import { formatIpv4, parseIpv4Into } from './address.js';
import { CodecInputError } from './errors.js';

export const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, number>> = {
  'graceful-shutdown': 0xffff0000, // RFC 8326
  'accept-own': 0xffff0001, // RFC 7611
  'llgr-stale': 0xffff0006, // RFC 9494
  'no-llgr': 0xffff0007, // RFC 9494
  blackhole: 0xffff029a, // RFC 7999
  'no-export': 0xffffff01, // RFC 1997
  'no-advertise': 0xffffff02, // RFC 1997
  'no-export-subconfed': 0xffffff03, // RFC 1997
  'no-peer': 0xffffff04, // RFC 3765
};

const NAME_OF = new Map<number, string>(Object.entries(WELL_KNOWN_COMMUNITIES).map(([k, v]) => [v, k]));

function bad(text: string, why: string): CodecInputError {
  return new CodecInputError('BGP_ENCODE_BAD_COMMUNITY', `bad community "${text}": ${why}`);
}

/** Decimal integer in [0, max]; no signs, no blanks, no exponent. */
function parseUint(text: string, part: string, max: number): number {
  if (part.length === 0 || part.length > 10 || !/^[0-9]+$/.test(part)) throw bad(text, `"${part}" is not a number`);
  const n = Number(part);
  if (n > max) throw bad(text, `${part} above ${max}`);
  return n;
}

/** "65001:100" or a well-known name -> 32-bit value. */
export function parseCommunity(text: string): number {
  const named = WELL_KNOWN_COMMUNITIES[text.toLowerCase()];
  if (named !== undefined) return named;
  const parts = text.split(':');
  if (parts.length !== 2) throw bad(text, 'expected "asn:value" or a well-known name');
  return parseUint(text, parts[0] ?? '', 0xffff) * 0x10000 + parseUint(text, parts[1] ?? '', 0xffff);
}

/** Canonical "asn:value" text (well-known ones too: 65535:0, not graceful-shutdown). */
export function formatCommunity(value: number): string {
  return `${Math.floor(value / 0x10000)}:${value & 0xffff}`;
}

/** The well-known name of a community, if it has one. */
export const communityName = (value: number): string | undefined => NAME_OF.get(value);

export function parseLargeCommunity(text: string): [number, number, number] {
  const parts = text.split(':');
  if (parts.length !== 3) throw bad(text, 'expected "global:local1:local2"');
  return [parseUint(text, parts[0] ?? '', 0xffffffff), parseUint(text, parts[1] ?? '', 0xffffffff), parseUint(text, parts[2] ?? '', 0xffffffff)];
}

export const formatLargeCommunity = (c: readonly [number, number, number]): string => `${c[0]}:${c[1]}:${c[2]}`;

/** RFC 4360 §3 type octets (transitive) and the two subtypes we name. */
const TYPE_AS2 = 0x00;
const TYPE_IPV4 = 0x01;
const TYPE_AS4 = 0x02; // RFC 5668
const SUBTYPES: Record<string, number> = { rt: 0x02, soo: 0x03 };
const SUBTYPE_NAMES: Record<number, string> = { 0x02: 'rt', 0x03: 'soo' };

/**
 * "rt:ASN:N" (2-octet AS with a 4-octet value, or 4-octet AS with a 2-octet value, RFC 5668),
 * "rt:IPv4:N", "soo:..." likewise, or 16 hex digits -> 8 octets.
 */
export function parseExtendedCommunity(text: string): Uint8Array {
  const out = new Uint8Array(8);
  if (/^(0x)?[0-9a-fA-F]{16}$/.test(text)) {
    out.set(Buffer.from(text.replace(/^0x/, ''), 'hex'));
    return out;
  }
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  const subtype = SUBTYPES[text.slice(0, first).toLowerCase()];
  if (first < 0 || first === last || subtype === undefined) throw bad(text, 'expected rt:/soo:ADMIN:N or 16 hex digits');
  const admin = text.slice(first + 1, last);
  const local = text.slice(last + 1);
  out[1] = subtype;
  if (admin.includes('.')) {
    out[0] = TYPE_IPV4;
    if (!parseIpv4Into(admin, 0, admin.length, out, 2)) throw bad(text, `"${admin}" is not an IPv4 address`);
    const n = parseUint(text, local, 0xffff);
    out[6] = n >> 8;
    out[7] = n & 0xff;
    return out;
  }
  const asn = parseUint(text, admin, 0xffffffff);
  const view = new DataView(out.buffer);
  if (asn > 0xffff) {
    out[0] = TYPE_AS4;
    view.setUint32(2, asn);
    view.setUint16(6, parseUint(text, local, 0xffff));
  } else {
    out[0] = TYPE_AS2;
    view.setUint16(2, asn);
    view.setUint32(4, parseUint(text, local, 0xffffffff));
  }
  return out;
}

/** Text for 8 octets: "rt:..."/"soo:..." where we know the type, else 16 hex digits. */
export function formatExtendedCommunity(c: Uint8Array): string {
  if (c.length !== 8) throw new CodecInputError('BGP_ENCODE_BAD_COMMUNITY', `extended community of ${c.length} octets`);
  const name = SUBTYPE_NAMES[c[1] ?? 0];
  const view = new DataView(c.buffer, c.byteOffset, 8);
  if (name && c[0] === TYPE_AS2) return `${name}:${view.getUint16(2)}:${view.getUint32(4)}`;
  if (name && c[0] === TYPE_IPV4) return `${name}:${formatIpv4(c, 2)}:${view.getUint16(6)}`;
  if (name && c[0] === TYPE_AS4) return `${name}:${view.getUint32(2)}:${view.getUint16(6)}`;
  return Buffer.from(c).toString('hex');
}
