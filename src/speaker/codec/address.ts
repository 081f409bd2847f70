/**
 * IPv4/IPv6 address text <-> bytes, written by hand because Node has no inet_pton/inet_ntop and
 * these run once per prefix when 100,000 VIPs are packed: no regular expressions, no split().
 * Output text is canonical: dotted quad, and RFC 5952 for IPv6 (lower case, longest zero run
 * compressed, IPv4-mapped addresses as ::ffff:a.b.c.d per §5).
 */
import { CodecInputError } from './errors.js';

const DOT = 46;
const COLON = 58;

/**
 * Parses a dotted quad in text[start, end) into out[off..off+4). Returns false when invalid
 * (no leading zeros rule: "010" is rejected, as inet_pton does).
 */
export function parseIpv4Into(text: string, start: number, end: number, out: Uint8Array, off: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || part === 3) return false;
      out[off + part++] = value;
      value = 0;
      digits = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) return false;
    if (digits === 1 && leadingZero) return false;
    if (digits === 0) leadingZero = d === 0;
    value = value * 10 + d;
    if (value > 255) return false;
    digits++;
  }
  if (digits === 0 || part !== 3) return false;
  out[off + 3] = value;
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses IPv6 text in text[start, end) into out[off..off+16). Accepts "::" compression and a
 * trailing dotted quad; rejects zone ids. Returns false when invalid.
 */
const groups = new Uint16Array(8); // scratch: parsing is synchronous and never re-entered
const quad = new Uint8Array(4);

export function parseIpv6Into(text: string, start: number, end: number, out: Uint8Array, off: number): boolean {
  let count = 0;
  let gap = -1; // group index where "::" sits
  let i = start;
  if (end - start < 2) return false;
  if (text.charCodeAt(i) === COLON) {
    if (text.charCodeAt(i + 1) !== COLON) return false;
    gap = 0;
    i += 2;
    if (i === end) {
      out.fill(0, off, off + 16);
      return true;
    }
  }
  while (i < end) {
    if (count === 8) return false;
    // One group: up to 4 hex digits, or a dotted quad as the last 32 bits.
    let value = 0;
    let digits = 0;
    const groupStart = i;
    while (i < end) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = (value << 4) | h;
      digits++;
      i++;
    }
    if (i < end && text.charCodeAt(i) === DOT) {
      if (count > 6) return false;
      if (!parseIpv4Into(text, groupStart, end, quad, 0)) return false;
      groups[count++] = ((quad[0] ?? 0) << 8) | (quad[1] ?? 0);
      groups[count++] = ((quad[2] ?? 0) << 8) | (quad[3] ?? 0);
      break;
    }
    if (digits === 0 || digits > 4) return false;
    groups[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (i < end && text.charCodeAt(i) === COLON) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === end) {
      return false; // trailing single colon
    }
  }
  if (gap < 0 && count !== 8) return false;
  if (gap >= 0 && count === 8) return false; // "::" must stand for at least one group
  const tail = gap < 0 ? 0 : count - gap;
  for (let g = 0; g < 8; g++) {
    let v = 0;
    if (gap < 0 || g < gap) v = groups[g] ?? 0;
    else if (g >= 8 - tail) v = groups[gap + (g - (8 - tail))] ?? 0;
    out[off + 2 * g] = v >> 8;
    out[off + 2 * g + 1] = v & 0xff;
  }
  return true;
}

export function formatIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 text of the 16 bytes at b[off]. */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(((b[off + 2 * i] ?? 0) << 8) | (b[off + 2 * i + 1] ?? 0));
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4(b, off + 12)}`;
  }
  // §4.2.3: compress the longest run of zero groups (the first on a tie), never a single group.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    g
      .slice(from, to)
      .map((v) => v.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

export function parseIpv4(text: string): Uint8Array {
  const out = new Uint8Array(4);
  if (!parseIpv4Into(text, 0, text.length, out, 0)) throw new CodecInputError('BGP_ENCODE_BAD_ADDRESS', `not an IPv4 address: "${text}"`);
  return out;
}

export function parseIpv6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  if (!parseIpv6Into(text, 0, text.length, out, 0)) throw new CodecInputError('BGP_ENCODE_BAD_ADDRESS', `not an IPv6 address: "${text}"`);
  return out;
}

/** 4 or 16 bytes, by the text's own syntax. */
export function parseAddress(text: string): Uint8Array {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

export function isIpv6Text(text: string): boolean {
  return text.includes(':');
}
