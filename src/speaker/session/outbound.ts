/**
 * From the desired set to the wire values one session sends (RFC 4271 §5.1, §9.1.2.2):
 * - AS_PATH: eBGP gets our AS (repeated 1 + as_path_prepend times) as one AS_SEQUENCE; iBGP an
 *   empty AS_PATH (§5.1.2: "an empty AS_PATH attribute" when originating to an internal peer);
 * - LOCAL_PREF only to iBGP peers (§5.1.5), defaulting to 100 there because it "SHALL be
 *   included in all UPDATE messages that a given BGP speaker sends to other internal peers";
 * - NEXT_HOP: the route's own next hop, else bgp.next_hop for the family, else the session's
 *   local address. An IPv4 route may take an IPv6 next hop only when RFC 8950 was negotiated;
 *   an IPv6 route over an IPv4 session needs a configured IPv6 next hop (there is no sensible
 *   default), and is left out with an error saying so;
 * - only families negotiated with this peer.
 */
import { isIP } from 'node:net';
import type { AddressFamily, DesiredSet, VipRoute } from '../../backend/types.js';
import type { OutboundRoute } from '../codec/types.js';
import { routeSignature } from './adj-rib-out.js';
import { parseCommunity, parseExtendedCommunity, parseLargeCommunity } from '../codec/index.js';

export interface OutboundContext {
  localAs: number;
  ibgp: boolean;
  /** Negotiated families. */
  families: AddressFamily[];
  nextHop: { ipv4?: string; ipv6?: string };
  /** Our address on this session's TCP connection. */
  localAddress: string;
  extendedNextHopIpv4: boolean;
  /** A route that cannot be sent to this peer, with a message that says what to configure. */
  onError(prefix: string, message: string): void;
}

/** A route as this peer gets it, with a signature of everything but the prefix (for diffs and grouping). */
export interface WantedRoute {
  route: OutboundRoute;
  /** Interned: routes with equal attributes share one string, compared by identity in the diff. */
  sig: string;
}

type Template = { template: Omit<OutboundRoute, 'prefix'>; sig: string } | { error: string };

/**
 * The routes this peer should hold, keyed by canonical prefix. Attributes are resolved once per
 * distinct attribute set (100,000 VIPs usually share a handful), not once per route.
 */
export function wantedRoutes(desired: DesiredSet, ctx: OutboundContext): Map<string, WantedRoute> {
  const out = new Map<string, WantedRoute>();
  const templates = new Map<string, Template>();
  for (const [key, vip] of desired) {
    if (!ctx.families.includes(vip.family)) continue;
    const k = attributeKey(vip);
    let t = templates.get(k);
    if (!t) {
      t = toTemplate(vip, ctx);
      templates.set(k, t);
    }
    if ('error' in t) {
      ctx.onError(vip.prefix, t.error.replace('%PREFIX%', vip.prefix));
      continue;
    }
    const tp = t.template;
    // Spelled out (not a spread): one object shape for every route keeps this loop fast.
    const route: OutboundRoute = {
      prefix: { family: vip.family, prefix: vip.prefix },
      origin: tp.origin,
      asPath: tp.asPath,
      nextHop: tp.nextHop,
      med: tp.med,
      localPref: tp.localPref,
      communities: tp.communities,
      largeCommunities: tp.largeCommunities,
      extendedCommunities: tp.extendedCommunities,
    };
    out.set(key, { route, sig: t.sig });
  }
  return out;
}

/** Cheap exact key of what decides the wire attributes of a VIP route (hot: once per route). */
function attributeKey(v: VipRoute): string {
  const a = v.attributes;
  const lists = a.communities.length + a.largeCommunities.length + a.extendedCommunities.length === 0
    ? ''
    : `${a.communities.join(',')}|${a.largeCommunities.join(',')}|${a.extendedCommunities.join(',')}`;
  return `${v.family}|${a.origin}|${a.nextHop ?? ''}|${a.med ?? ''}|${a.localPref ?? ''}|${a.asPathPrepend}|${lists}`;
}

function toTemplate(vip: VipRoute, ctx: OutboundContext): Template {
  const nextHop = resolveNextHop(vip, ctx);
  if (typeof nextHop !== 'string') return nextHop;
  const a = vip.attributes;
  try {
    const template: Omit<OutboundRoute, 'prefix'> = {
      origin: a.origin,
      asPath: ctx.ibgp ? [] : Array<number>(1 + Math.max(0, a.asPathPrepend)).fill(ctx.localAs),
      nextHop,
      med: a.med,
      localPref: ctx.ibgp ? (a.localPref ?? 100) : undefined,
      communities: a.communities.map(parseCommunity),
      largeCommunities: a.largeCommunities.map(parseLargeCommunity),
      extendedCommunities: a.extendedCommunities.map(parseExtendedCommunity),
    };
    return { template, sig: `${vip.family}|${routeSignature({ ...template, prefix: { family: vip.family, prefix: '' } })}` };
  } catch (err) {
    return { error: `BGP_BAD_ATTRIBUTE: ${vip.vip} (%PREFIX%): ${(err as Error).message}` };
  }
}

function resolveNextHop(vip: VipRoute, ctx: OutboundContext): string | { error: string } {
  const candidate = vip.attributes.nextHop ?? ctx.nextHop[vip.family] ?? ctx.localAddress;
  const fam = isIP(candidate);
  if (vip.family === 'ipv4') {
    if (fam === 4) return candidate;
    if (fam === 6 && ctx.extendedNextHopIpv4) return candidate; // RFC 8950
    return {
      error:
        `BGP_NEXT_HOP_FAMILY: IPv4 VIP %PREFIX% would get next hop ${candidate || '(none)'}, ` +
        'but the peer did not negotiate extended next hop (RFC 8950): set bgp.next_hop.ipv4',
    };
  }
  if (fam === 6) return candidate;
  return {
    error:
      `BGP_NEXT_HOP_FAMILY: IPv6 VIP %PREFIX% needs an IPv6 next hop, and this session runs over IPv4 ` +
      `(local address ${ctx.localAddress}): set bgp.next_hop.ipv6 (or the VIP's next hop)`,
  };
}
