/**
 * AS_PATH (RFC 4271 §4.3, §5.1.2), AS4_PATH and the AS_TRANS rules of RFC 6793 §4.2:
 * on a session without the 4-octet AS capability, AS_PATH carries 2-octet numbers with AS_TRANS
 * for every number above 65535, and AS4_PATH carries the true path; the receiver rebuilds it
 * (§4.2.3, reconstructAsPath).
 */
import { AS_TRANS, type AsPathSegment, type PathAttributes } from '../types.js';
import { attrError, type AttrContext } from './codec.js';

const SEGMENT_TYPES: Record<number, AsPathSegment['type']> = { 1: 'set', 2: 'sequence', 3: 'confed-sequence', 4: 'confed-set' };
const SEGMENT_CODES: Record<AsPathSegment['type'], number> = { set: 1, sequence: 2, 'confed-sequence': 3, 'confed-set': 4 };
const MAX_SEGMENT = 255;

/** Decodes segments of `asnSize` (2 or 4) octet numbers; any inconsistency is Malformed AS_PATH (§6.3, RFC 7606 §7.2). */
export function decodeAsPath(v: Uint8Array, asnSize: 2 | 4, ctx: AttrContext, name: string): AsPathSegment[] {
  const segments: AsPathSegment[] = [];
  let i = 0;
  while (i < v.length) {
    if (i + 2 > v.length) throw attrError('BGP_UPDATE_MALFORMED_AS_PATH', ctx, `${name}: truncated segment header`);
    const type = SEGMENT_TYPES[v[i] ?? 0];
    const count = v[i + 1] ?? 0;
    if (!type) throw attrError('BGP_UPDATE_MALFORMED_AS_PATH', ctx, `${name}: segment type ${v[i]}`);
    // RFC 7606 §7.2: a segment of zero length is malformed.
    if (count === 0) throw attrError('BGP_UPDATE_MALFORMED_AS_PATH', ctx, `${name}: empty segment`);
    const end = i + 2 + count * asnSize;
    if (end > v.length) throw attrError('BGP_UPDATE_MALFORMED_AS_PATH', ctx, `${name}: segment overruns the attribute`);
    const asns = new Array<number>(count);
    for (let k = 0, p = i + 2; k < count; k++, p += asnSize) {
      asns[k] = asnSize === 2 ? ((v[p] ?? 0) << 8) | (v[p + 1] ?? 0) : ((v[p] ?? 0) * 0x1000000 + (((v[p + 1] ?? 0) << 16) | ((v[p + 2] ?? 0) << 8) | (v[p + 3] ?? 0))) >>> 0;
    }
    segments.push({ type, asns });
    i = end;
  }
  return segments;
}

/** Encodes segments; long ones are split at 255 numbers. With asnSize 2, numbers above 65535 become AS_TRANS. */
export function encodeAsPath(segments: AsPathSegment[], asnSize: 2 | 4): Uint8Array {
  const pieces: AsPathSegment[] = [];
  for (const s of segments) {
    if (s.asns.length === 0) continue;
    for (let k = 0; k < s.asns.length; k += MAX_SEGMENT) pieces.push({ type: s.type, asns: s.asns.slice(k, k + MAX_SEGMENT) });
  }
  const out = new Uint8Array(pieces.reduce((n, s) => n + 2 + s.asns.length * asnSize, 0));
  let i = 0;
  for (const s of pieces) {
    out[i++] = SEGMENT_CODES[s.type];
    out[i++] = s.asns.length;
    for (const asn of s.asns) {
      if (asnSize === 2) {
        const a = asn > 0xffff ? AS_TRANS : asn;
        out[i++] = a >> 8;
        out[i++] = a & 0xff;
      } else {
        out[i++] = asn >>> 24;
        out[i++] = (asn >>> 16) & 0xff;
        out[i++] = (asn >>> 8) & 0xff;
        out[i++] = asn & 0xff;
      }
    }
  }
  return out;
}

export const needsAs4 = (segments: AsPathSegment[] | undefined): boolean => !!segments?.some((s) => s.asns.some((a) => a > 0xffff));

const isConfed = (s: AsPathSegment): boolean => s.type === 'confed-sequence' || s.type === 'confed-set';

/** RFC 4271 §9.1.2.2 a / RFC 6793 §4.2.3 counting: an AS_SET counts as one, confederation segments as none. */
export function asPathLength(segments: AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === 'sequence') n += s.asns.length;
    else if (s.type === 'set') n += 1;
  }
  return n;
}

/**
 * RFC 6793 §4.2.3: the AS path of a route received over a 2-octet session. If AS_PATH counts
 * fewer numbers than AS4_PATH, AS4_PATH is ignored; otherwise the leading numbers AS_PATH has
 * beyond AS4_PATH's count (added by speakers without 4-octet support) are prepended to AS4_PATH.
 */
export function reconstructAsPath(asPath: AsPathSegment[], as4Path: AsPathSegment[]): AsPathSegment[] {
  const n = asPathLength(asPath);
  const m = asPathLength(as4Path);
  if (n < m) return asPath;
  let need = n - m;
  const lead: AsPathSegment[] = [];
  for (const s of asPath) {
    if (isConfed(s)) {
      // A leading confederation segment is prepended as a whole (§4.2.3 note).
      if (need > 0 || lead.length === 0) lead.push({ type: s.type, asns: [...s.asns] });
      continue;
    }
    if (need === 0) break;
    if (s.type === 'set') {
      lead.push({ type: s.type, asns: [...s.asns] });
      need -= 1;
    } else {
      const take = Math.min(need, s.asns.length);
      lead.push({ type: s.type, asns: s.asns.slice(0, take) });
      need -= take;
    }
  }
  const out = [...lead.map((s) => ({ type: s.type, asns: [...s.asns] })), ...as4Path.map((s) => ({ type: s.type, asns: [...s.asns] }))];
  // Join the seam between the two halves when both sides are sequences.
  const seam = lead.length;
  const left = out[seam - 1];
  const right = out[seam];
  if (seam > 0 && left && right && left.type === 'sequence' && right.type === 'sequence') {
    left.asns.push(...right.asns);
    out.splice(seam, 1);
  }
  return out;
}

/**
 * The true AS path of decoded attributes: AS_PATH, rebuilt with AS4_PATH when that was sent.
 * RFC 6793 §4.2.3: an AGGREGATOR with a number other than AS_TRANS means AS4_PATH is ignored.
 */
export function effectiveAsPath(attrs: PathAttributes): AsPathSegment[] | undefined {
  if (!attrs.asPath) return undefined;
  if (!attrs.as4Path || (attrs.aggregator && attrs.aggregator.asn !== AS_TRANS)) return attrs.asPath;
  return reconstructAsPath(attrs.asPath, attrs.as4Path);
}

/** The true aggregator: AS4_AGGREGATOR when AGGREGATOR says AS_TRANS (RFC 6793 §4.2.3). */
export function effectiveAggregator(attrs: PathAttributes): PathAttributes['aggregator'] {
  if (attrs.aggregator && attrs.as4Aggregator && attrs.aggregator.asn === AS_TRANS) return attrs.as4Aggregator;
  return attrs.aggregator;
}
