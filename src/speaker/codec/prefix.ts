/**
 * NLRI prefixes (RFC 4271 §4.3, RFC 4760 §5): a length octet in bits, then the fewest octets
 * that hold that many bits. Text form is canonical "address/length" with host bits cleared.
 *
 * writePrefix parses text straight into the caller's buffer (packUpdates calls it 100,000 times),
 * decodePrefixes reports a syntax error through the caller's error factory because the same bytes
 * mean different NOTIFICATIONs in the withdrawn field, the NLRI field and MP_REACH (RFC 7606 §5.3).
 */
import type { AddressFamily } from '../../backend/types.js';
import { formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into } from './address.js';
import { CodecInputError } from './errors.js';
import type { Prefix } from './types.js';

export interface ParsedPrefix {
  family: AddressFamily;
  /** 4 or 16 bytes, host bits cleared. */
  bytes: Uint8Array;
  length: number;
}

export const maxPrefixLength = (family: AddressFamily): number => (family === 'ipv4' ? 32 : 128);

/** Bytes one encoded prefix of `length` bits takes, length octet included. */
export const encodedPrefixSize = (length: number): number => 1 + ((length + 7) >> 3);

function badPrefix(text: string, why: string): CodecInputError {
  return new CodecInputError('BGP_ENCODE_BAD_PREFIX', `bad prefix "${text}": ${why}`);
}

/** Parses the "/len" suffix; a bare address is a host prefix. */
function parseLength(text: string, slash: number, family: AddressFamily): number {
  const max = maxPrefixLength(family);
  if (slash < 0) return max;
  if (slash === text.length - 1 || text.length - slash > 4) throw badPrefix(text, 'bad length');
  let len = 0;
  for (let i = slash + 1; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw badPrefix(text, 'bad length');
    len = len * 10 + d;
  }
  if (len > max) throw badPrefix(text, `length above ${max}`);
  return len;
}

function clearHostBits(bytes: Uint8Array, length: number): void {
  const full = length >> 3;
  const rest = length & 7;
  if (rest) bytes[full] = (bytes[full] ?? 0) & (0xff << (8 - rest));
  bytes.fill(0, rest ? full + 1 : full);
}

/** "192.0.2.10/32", "2001:db8::/32" or a bare address -> family, bytes, length. */
export function parsePrefix(text: string, family?: AddressFamily): ParsedPrefix {
  const fam: AddressFamily = family ?? (text.includes(':') ? 'ipv6' : 'ipv4');
  const slash = text.lastIndexOf('/');
  const end = slash < 0 ? text.length : slash;
  const bytes = new Uint8Array(fam === 'ipv4' ? 4 : 16);
  const ok = fam === 'ipv4' ? parseIpv4Into(text, 0, end, bytes, 0) : parseIpv6Into(text, 0, end, bytes, 0);
  if (!ok) throw badPrefix(text, `not an ${fam} address`);
  const length = parseLength(text, slash, fam);
  clearHostBits(bytes, length);
  return { family: fam, bytes, length };
}

export function formatPrefix(family: AddressFamily, bytes: Uint8Array, length: number): string {
  return `${family === 'ipv4' ? formatIpv4(bytes) : formatIpv6(bytes)}/${length}`;
}

/** Canonical Prefix for any accepted text ("10.0.0.1/8" -> "10.0.0.0/8"). */
export function canonicalPrefix(text: string, family?: AddressFamily): Prefix {
  const p = parsePrefix(text, family);
  return { family: p.family, prefix: formatPrefix(p.family, p.bytes, p.length) };
}

const scratch = new Uint8Array(16);

/**
 * Encodes `prefix` into out[off..] and returns the offset after it. The caller guarantees room
 * for encodedPrefixSize (at most 17 bytes). Host bits are cleared.
 */
export function writePrefix(prefix: Prefix, out: Uint8Array, off: number): number {
  const text = prefix.prefix;
  const slash = text.lastIndexOf('/');
  const end = slash < 0 ? text.length : slash;
  const fam = prefix.family;
  const ok = fam === 'ipv4' ? parseIpv4Into(text, 0, end, scratch, 0) : parseIpv6Into(text, 0, end, scratch, 0);
  if (!ok) throw badPrefix(text, `not an ${fam} address`);
  const length = parseLength(text, slash, fam);
  out[off] = length;
  const n = (length + 7) >> 3;
  for (let i = 0; i < n; i++) out[off + 1 + i] = scratch[i] ?? 0;
  if (length & 7) out[off + n] = (out[off + n] ?? 0) & (0xff << (8 - (length & 7)));
  return off + 1 + n;
}

const nlriScratch = new Uint8Array(17);

/**
 * One prefix in wire form, e.g. for GoBGP's `nlri_binary`. Copied out of a scratch array into an
 * exact-size Buffer.from (served from Node's shared pool): one small object per prefix, where a
 * zero-filled 17-byte Buffer.alloc plus a subarray view cost two and a fresh allocation each
 * (100,000 VIPs through the GoBGP backend encode 100,000 of these at once).
 */
export function encodeNlri(prefix: Prefix): Buffer {
  const end = writePrefix(prefix, nlriScratch, 0);
  return Buffer.from(nlriScratch.subarray(0, end)); // a copy: the scratch is reused
}

/**
 * Decodes the prefixes in buf[start, end). `fail` builds the error to throw for a length above
 * the family's maximum or a prefix running past `end`.
 */
export function decodePrefixes(buf: Uint8Array, start: number, end: number, family: AddressFamily, fail: (detail: string) => Error): Prefix[] {
  const max = maxPrefixLength(family);
  const out: Prefix[] = [];
  const bytes = new Uint8Array(family === 'ipv4' ? 4 : 16);
  let i = start;
  while (i < end) {
    const length = buf[i] ?? 0;
    if (length > max) throw fail(`prefix length ${length} above ${max}`);
    const n = (length + 7) >> 3;
    if (i + 1 + n > end) throw fail(`prefix of length ${length} runs past the field`);
    bytes.fill(0);
    for (let k = 0; k < n; k++) bytes[k] = buf[i + 1 + k] ?? 0;
    clearHostBits(bytes, length);
    out.push({ family, prefix: formatPrefix(family, bytes, length) });
    i += 1 + n;
  }
  return out;
}
