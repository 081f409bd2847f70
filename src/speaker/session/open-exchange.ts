/**
 * Our side of the OPEN exchange (RFC 4271 §4.2, RFC 5492): the capabilities we advertise to one
 * neighbor, and what we agreed once the peer's OPEN arrived (families, hold time, codec options,
 * route refresh, graceful restart). Format checks of the peer's OPEN happen in the codec's
 * decoder; the configuration checks (peer AS, identifier) in the codec's validateOpen.
 */
import type { AddressFamily } from '../../backend/types.js';
import { NotificationError } from '../codec/errors.js';
import { negotiateCodecOptions, peerAsOf, twoOctetAs, validateOpen } from '../codec/open.js';
import { AFI_IPV4, AFI_IPV6, MessageType, SAFI_UNICAST, type Capability, type CodecOptions, type OpenMessage } from '../codec/types.js';

export interface LocalOpenConfig {
  localAs: number;
  routerId: string;
  holdTimeSec: number;
  /** Families configured for this neighbor (RFC 4760: one multiprotocol capability each). */
  families: AddressFamily[];
  /** RFC 8950: offer IPv4 NLRI with an IPv6 next hop. */
  extendedNextHop: boolean;
  /** RFC 4724 restart time we advertise (seconds, at most 4095). */
  gracefulRestartTimeSec: number;
}

export interface Negotiated {
  peerAs: number;
  peerRouterId: string;
  /** Families both sides advertised; only these are sent (and accepted). */
  families: AddressFamily[];
  codec: CodecOptions;
  /** RFC 2918: both sides support ROUTE-REFRESH. */
  routeRefresh: boolean;
  /** RFC 4724: the peer advertised graceful restart, so it expects End-of-RIB markers. */
  peerGracefulRestart: boolean;
  peerHoldTimeSec: number;
}

const afiOf = (f: AddressFamily): number => (f === 'ipv4' ? AFI_IPV4 : AFI_IPV6);

export function localCapabilities(cfg: LocalOpenConfig): Capability[] {
  const caps: Capability[] = cfg.families.map((f) => ({ kind: 'multiprotocol', afi: afiOf(f), safi: SAFI_UNICAST }));
  caps.push({ kind: 'route-refresh' });
  if (cfg.extendedNextHop && cfg.families.includes('ipv4')) {
    caps.push({ kind: 'extended-next-hop', entries: [{ afi: AFI_IPV4, safi: SAFI_UNICAST, nextHopAfi: AFI_IPV6 }] });
  }
  // RFC 4724 §3: the capability with a restart time and *no* <AFI, SAFI>: "the sender is not
  // capable of preserving its forwarding state during BGP restart, but supports procedures for
  // the Receiving Speaker" (End-of-RIB). Deliberately no families: a peer then keeps none of our
  // routes as stale when our session drops (§4.2), so a crashed vipcast withdraws its VIPs at
  // once instead of leaving them advertised for the restart time.
  caps.push({ kind: 'graceful-restart', restarting: false, restartTimeSec: Math.min(cfg.gracefulRestartTimeSec, 4095), families: [] });
  caps.push({ kind: 'four-octet-as', asn: cfg.localAs });
  return caps;
}

export function localOpen(cfg: LocalOpenConfig): OpenMessage {
  return {
    type: MessageType.Open,
    version: 4,
    myAs: twoOctetAs(cfg.localAs),
    holdTimeSec: cfg.holdTimeSec,
    routerId: cfg.routerId,
    capabilities: localCapabilities(cfg),
  };
}

/**
 * Check the peer's OPEN against our configuration and work out the session parameters.
 * `expectedPeerAs` undefined accepts any AS (receive-only mode). Throws NotificationError.
 */
export function negotiate(cfg: LocalOpenConfig, peer: OpenMessage, expectedPeerAs: number | undefined): Negotiated {
  const peerAs = peerAsOf(peer);
  validateOpen(peer, { peerAs: expectedPeerAs ?? peerAs, localAs: cfg.localAs, localRouterId: cfg.routerId });
  const local = localCapabilities(cfg);
  const mp = peer.capabilities.filter((c) => c.kind === 'multiprotocol');
  // RFC 4760 §8: a peer without any multiprotocol capability speaks IPv4 unicast only.
  const peerFamilies: AddressFamily[] =
    mp.length === 0
      ? ['ipv4']
      : (['ipv4', 'ipv6'] as const).filter((f) => mp.some((c) => c.afi === afiOf(f) && c.safi === SAFI_UNICAST));
  const families = cfg.families.filter((f) => peerFamilies.includes(f));
  if (families.length === 0) {
    // RFC 5492 §5 would allow carrying on with nothing to exchange; a session without a common
    // family is useless to a VIP speaker, and the peer's operator should see why.
    throw new NotificationError('BGP_OPEN_UNSUPPORTED_CAPABILITY', `no common address family (ours: ${cfg.families.join(', ')})`);
  }
  return {
    peerAs,
    peerRouterId: peer.routerId,
    families,
    codec: negotiateCodecOptions(local, peer.capabilities),
    routeRefresh: peer.capabilities.some((c) => c.kind === 'route-refresh' || c.kind === 'enhanced-route-refresh'),
    peerGracefulRestart: peer.capabilities.some((c) => c.kind === 'graceful-restart'),
    peerHoldTimeSec: peer.holdTimeSec,
  };
}
