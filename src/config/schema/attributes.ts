/**
 * Route attributes of a VIP (`attributes:` and `when_down.attributes:`), canonicalised:
 * communities as "asn:value" (well-known names resolved), large communities "g:l1:l2",
 * extended communities "rt:..."/"soo:..." or 16 lower-case hex digits.
 */
import * as z from 'zod';
import type { RouteAttributes } from '../../backend/types.js';
import { isIP } from 'node:net';
import { needs, partsOf } from './cross-field.js';
import { ipAddress, intIn, report, uint32 } from './primitives.js';

/** RFC 1997, RFC 7999 (blackhole) and RFC 8326 (graceful shutdown) well-known communities. */
export const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, string>> = {
  'graceful-shutdown': '65535:0',
  blackhole: '65535:666',
  'no-export': '65535:65281',
  'no-advertise': '65535:65282',
  'no-export-subconfed': '65535:65283',
};

const U16 = 65535;
const U32 = 4294967295;

function numbersIn(text: string, count: number, max: number): number[] | undefined {
  const parts = text.split(':');
  if (parts.length !== count || !parts.every((p) => /^\d{1,10}$/.test(p))) return undefined;
  const nums = parts.map(Number);
  return nums.every((n) => n <= max) ? nums : undefined;
}

const community = z.string().transform((text, ctx) => {
  const known = WELL_KNOWN_COMMUNITIES[text.toLowerCase()];
  if (known) return known;
  const nums = numbersIn(text, 2, U16);
  if (!nums) {
    report(ctx, 'invalid_value', `"${text}" is not a community: "asn:value" with each part 0..65535, or one of ${Object.keys(WELL_KNOWN_COMMUNITIES).join(', ')}`);
    return z.NEVER;
  }
  return nums.join(':');
});

const largeCommunity = z.string().transform((text, ctx) => {
  const nums = numbersIn(text, 3, U32);
  if (!nums) {
    report(ctx, 'invalid_value', `"${text}" is not a large community: "global:local1:local2" with each part 0..4294967295`);
    return z.NEVER;
  }
  return nums.join(':');
});

/**
 * RFC 4360 route target / site of origin. The value field is 6 octets: a 2-octet ASN leaves
 * 4 for the number, a 4-octet ASN (RFC 5668) or an IPv4 address leaves 2.
 */
const extendedCommunity = z.string().transform((text, ctx) => {
  const t = text.trim().toLowerCase();
  if (/^[0-9a-f]{16}$/.test(t)) return t;
  const m = /^(rt|soo):([^:]+):(\d{1,10})$/.exec(t);
  const bad = (why: string): never => {
    report(ctx, 'invalid_value', `"${text}" is not an extended community: ${why}`);
    return z.NEVER;
  };
  if (!m) return bad('use "rt:ASN:N", "rt:IPv4:N", "soo:ASN:N", "soo:IPv4:N" or 16 hex digits');
  const [, kind, admin = '', numText] = m;
  const n = Number(numText);
  if (isIP(admin) === 4) return n <= U16 ? `${kind}:${admin}:${n}` : bad('with an IPv4 administrator the number must be 0..65535');
  if (!/^\d{1,10}$/.test(admin) || Number(admin) > U32) return bad(`"${admin}" is neither an AS number nor an IPv4 address`);
  const asn = Number(admin);
  const max = asn > U16 ? U16 : U32;
  return n <= max ? `${kind}:${asn}:${n}` : bad(`with AS ${asn} the number must be 0..${max}`);
});

/** Duplicates among the items that parsed (canonical forms), also when another item failed. */
function uniqueList<T extends z.ZodType<string>>(item: T) {
  return z.array(item).superRefine(
    (list, ctx) => {
      const parts = partsOf(ctx);
      const seen = new Set<string>();
      list.forEach((v, i) => {
        if (!parts.ok(i)) return;
        if (seen.has(v)) report(ctx, 'duplicate', `"${v}" is listed twice`, [i]);
        seen.add(v);
      });
    },
    { when: needs('[]') },
  );
}

/**
 * AS_PATH prepending beyond a few copies changes nothing in path selection that 3-4 copies
 * did not, and long paths are commonly filtered (many networks drop AS_PATHs longer than
 * ~50 and flag excessive prepends); 16 leaves room for any sane policy.
 */
export const MAX_PREPEND = 16;

/** All keys optional: used for `attributes:` (then defaults applied) and `when_down.attributes:` (merged). */
export const attributesObject = z.strictObject({
  origin: z.enum(['igp', 'egp', 'incomplete']).optional(),
  next_hop: ipAddress().optional(),
  med: uint32.optional(),
  local_pref: uint32.optional(),
  as_path_prepend: intIn(0, MAX_PREPEND).optional(),
  communities: uniqueList(community).optional(),
  large_communities: uniqueList(largeCommunity).optional(),
  extended_communities: uniqueList(extendedCommunity).optional(),
});
export type PartialAttributes = z.output<typeof attributesObject>;

export const DEFAULT_ATTRIBUTES: RouteAttributes = {
  origin: 'igp',
  asPathPrepend: 0,
  communities: [],
  largeCommunities: [],
  extendedCommunities: [],
};

/** Keys given in `over` replace those of `base` (lists are replaced, not appended). */
export function mergeAttributes(base: RouteAttributes, over: PartialAttributes): RouteAttributes {
  return {
    origin: over.origin ?? base.origin,
    nextHop: over.next_hop ?? base.nextHop,
    med: over.med ?? base.med,
    localPref: over.local_pref ?? base.localPref,
    asPathPrepend: over.as_path_prepend ?? base.asPathPrepend,
    communities: over.communities ?? base.communities,
    largeCommunities: over.large_communities ?? base.largeCommunities,
    extendedCommunities: over.extended_communities ?? base.extendedCommunities,
  };
}
