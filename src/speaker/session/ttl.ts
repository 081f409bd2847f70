/**
 * eBGP TTL (RFC 4271 §5.1.3 practice, GTSM in RFC 5082): a directly connected eBGP session is
 * normally sent with TTL 1, a multihop one with the configured `ebgp_multihop`.
 *
 * The limit, stated honestly: Node.js cannot set IP_TTL / IPV6_UNICAST_HOPS on a TCP socket.
 * `net.Socket` has no setTTL (only `dgram.Socket` does), and the TCP handle underneath exposes
 * open/bind/listen/connect/setNoDelay/setKeepAlive and nothing else (checked on Node 20); there is
 * no setsockopt without a native addon, which vipcast does not ship. So our segments leave with
 * the system default TTL (sysctl net.ipv4.ip_default_ttl, usually 64):
 * - interop is unaffected: BIRD, FRR and GoBGP check the *incoming* TTL only with GTSM /
 *   `ttl security` enabled, which needs TTL 255 from us and which we therefore cannot offer;
 * - multihop sessions work as long as the peer is fewer than 64 hops away;
 * - the only loss is the guarantee that our packets die after one hop. Operators who need it can
 *   pin it per destination on Linux: `ip route replace <peer>/32 dev <if> hoplimit 1`, which the
 *   kernel applies to every socket without its own TTL; or use the GoBGP backend, which sets it.
 */
import type { NeighborSpec } from '../../backend/types.js';

/** The TTL RFC practice asks for this neighbor: 1 when directly connected eBGP, else ebgp_multihop. */
export function wantedTtl(n: NeighborSpec, ibgp: boolean): number | undefined {
  if (ibgp) return undefined;
  return n.ebgpMultihop > 0 ? n.ebgpMultihop : 1;
}

/** A one-line explanation for the log when the wanted TTL cannot be applied, else undefined. */
export function describeTtlLimit(n: NeighborSpec, ibgp: boolean): string | undefined {
  const ttl = wantedTtl(n, ibgp);
  if (ttl === undefined || ttl >= 64) return undefined;
  return `cannot set IP TTL ${ttl} for ${n.address}: Node.js offers no TTL option on TCP sockets; packets use the system default TTL (see src/speaker/session/ttl.ts for a per-route hoplimit workaround)`;
}
