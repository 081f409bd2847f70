/**
 * One line per received route for `vipcast listen`: what each peer announced or withdrew, with
 * the attributes a VIP route carries. Text for people, JSON lines (--json) for tests and tools.
 */
import { effectiveAsPath } from '../codec/index.js';
import type { DecodedUpdate, PathAttributes, Prefix } from '../codec/types.js';

export interface RouteEvent {
  type: 'announce' | 'withdraw' | 'eor';
  peer: string;
  peer_as: number;
  family: 'ipv4' | 'ipv6';
  prefix?: string;
  next_hop?: string;
  origin?: string;
  as_path?: number[];
  med?: number;
  local_pref?: number;
  communities?: string[];
  large_communities?: string[];
  extended_communities?: string[];
  /** RFC 7606 treat-as-withdraw: announced, but to be handled as withdrawn. */
  treat_as_withdraw?: string;
}

const community = (c: number): string => `${Math.floor(c / 0x10000)}:${c & 0xffff}`;

function attributesOf(a: PathAttributes, nextHop: string | undefined): Partial<RouteEvent> {
  const out: Partial<RouteEvent> = { next_hop: nextHop, origin: a.origin, as_path: (effectiveAsPath(a) ?? []).flatMap((s) => s.asns) };
  if (a.med !== undefined) out.med = a.med;
  if (a.localPref !== undefined) out.local_pref = a.localPref;
  if (a.communities?.length) out.communities = a.communities.map(community);
  if (a.largeCommunities?.length) out.large_communities = a.largeCommunities.map((l) => l.join(':'));
  if (a.extendedCommunities?.length) out.extended_communities = a.extendedCommunities.map((e) => Buffer.from(e).toString('hex'));
  return out;
}

/** The route events in one UPDATE, withdrawals first (as on the wire). */
export function routeEvents(u: DecodedUpdate, peer: string, peerAs: number): RouteEvent[] {
  const events: RouteEvent[] = [];
  const withdrawn: Prefix[] = [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])];
  for (const p of withdrawn) events.push({ type: 'withdraw', peer, peer_as: peerAs, family: p.family, prefix: p.prefix });
  const v4 = u.nlri.map((p) => ({ p, nh: u.attributes.mpReach && u.attributes.mpReach.afi === 1 ? u.attributes.mpReach.nextHops[0] : u.attributes.nextHop }));
  const mp = (u.attributes.mpReach?.nlri ?? []).map((p) => ({ p, nh: u.attributes.mpReach?.nextHops.join(',') }));
  for (const { p, nh } of [...v4, ...mp]) {
    const e: RouteEvent = { type: 'announce', peer, peer_as: peerAs, family: p.family, prefix: p.prefix, ...attributesOf(u.attributes, nh) };
    if (u.treatAsWithdraw) e.treat_as_withdraw = u.treatAsWithdraw.reason;
    events.push(e);
  }
  // RFC 4724 §2: End-of-RIB is an UPDATE with nothing in it (IPv4) or an empty MP_UNREACH_NLRI.
  if (events.length === 0 && withdrawn.length === 0) {
    const unreach = u.attributes.mpUnreach;
    if (!unreach && u.nlri.length === 0 && !u.attributes.mpReach && Object.keys(u.attributes).length === 0) {
      events.push({ type: 'eor', peer, peer_as: peerAs, family: 'ipv4' });
    } else if (unreach && unreach.withdrawn.length === 0) {
      events.push({ type: 'eor', peer, peer_as: peerAs, family: unreach.afi === 2 ? 'ipv6' : 'ipv4' });
    }
  }
  return events;
}

/** "announce 192.0.2.10/32 from 127.0.0.2 AS65001 next-hop 10.0.0.1 as-path 65001 65001 origin igp med 10 communities 65001:100" */
export function formatText(e: RouteEvent): string {
  if (e.type === 'eor') return `end-of-rib ${e.family} from ${e.peer} AS${e.peer_as}`;
  const parts = [e.type, e.prefix, 'from', e.peer, `AS${e.peer_as}`];
  if (e.type === 'announce') {
    parts.push('next-hop', e.next_hop ?? '-', 'as-path', e.as_path?.length ? e.as_path.join(' ') : '(empty)', 'origin', e.origin ?? '-');
    if (e.med !== undefined) parts.push('med', String(e.med));
    if (e.local_pref !== undefined) parts.push('local-pref', String(e.local_pref));
    if (e.communities) parts.push('communities', e.communities.join(' '));
    if (e.large_communities) parts.push('large-communities', e.large_communities.join(' '));
    if (e.extended_communities) parts.push('extended-communities', e.extended_communities.join(' '));
    if (e.treat_as_withdraw) parts.push('(treat-as-withdraw:', `${e.treat_as_withdraw})`);
  }
  return parts.join(' ');
}
