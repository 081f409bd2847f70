/**
 * eBGP TTL: a directly connected eBGP peer is sent TTL 1 (the common practice that RFC 4271
 * leaves to implementations, and the default of BIRD, FRR and GoBGP), a multihop one the
 * configured `ebgp_multihop`, an iBGP one the system default. A peer that is not directly
 * connected then never receives our messages and the session does not come up, instead of
 * running over a path nobody configured.
 *
 * How: Node.js has no TTL option on TCP sockets, so src/net/socket-options.ts sets IP_TTL
 * (IPv4, including an IPv4 peer on a dual-stack listener) or IPV6_UNICAST_HOPS with setsockopt
 * through koffi, on every connection of the neighbor: outbound ones in their 'connect' event,
 * inbound ones when the listener hands them over, both before we write our first byte.
 *
 * The limit, stated honestly: libuv creates an outbound socket's descriptor inside connect(),
 * so there is nothing to set before the SYN. Our SYN and the ACK completing the handshake leave
 * with the system default TTL (net.ipv4.ip_default_ttl, usually 64); every BGP message, OPEN
 * included, leaves with ours. A peer 2 hops away without `ebgp_multihop` therefore sees a TCP
 * connection open, never an OPEN, and the session stays down, which is the point; but the
 * handshake itself is not confined to one hop. Setting the TTL before the SYN would take a
 * socket created with libc's socket() and handed to `new net.Socket({ fd })` before connect():
 * it works in a quick test, but relies on Node adopting an unconnected descriptor (undocumented)
 * and on a read started on it before the connect not seeing a hang-up, so it is not done.
 * Inbound connections are not affected: the kernel answers the SYN before we see the socket,
 * and the SYN-ACK carrying the default TTL is the same either way.
 *
 * Where setsockopt cannot be called (koffi or glibc missing, not Linux) the session runs as
 * before with the default TTL and warns once per neighbor (BGP_TTL_UNSUPPORTED). Operators who
 * need the one-hop guarantee there can pin it per destination on Linux:
 * `ip route replace <peer>/32 dev <if> hoplimit 1` applies to every socket without its own TTL;
 * or use the GoBGP backend, which sets it.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { NeighborSpec } from '../../backend/types.js';
import { SocketOptionError, setHopLimit, socketOptionsAvailable } from '../../net/socket-options.js';

/** The TTL this neighbor's packets should carry: 1 when directly connected eBGP, else ebgp_multihop. */
export function wantedTtl(n: NeighborSpec, ibgp: boolean): number | undefined {
  if (ibgp) return undefined;
  return n.ebgpMultihop > 0 ? Math.min(n.ebgpMultihop, 255) : 1;
}

/** Applies one neighbor's TTL to each of its connections, and says once when it cannot. */
export class NeighborTtl {
  /** Error codes already logged for this neighbor. */
  readonly #warned = new Set<string>();

  constructor(
    private readonly neighbor: NeighborSpec,
    private readonly log: Logger,
  ) {}

  /** At session start: warn right away if this host cannot set the TTL at all. */
  check(ibgp: boolean): void {
    const ttl = wantedTtl(this.neighbor, ibgp);
    if (ttl === undefined) return;
    const available = socketOptionsAvailable();
    if (available !== true) this.#warn(available, ttl);
  }

  /** On a connected socket of this neighbor, before our first byte is written. */
  apply(socket: Socket, ibgp: boolean): void {
    const ttl = wantedTtl(this.neighbor, ibgp);
    if (ttl === undefined) return;
    try {
      setHopLimit(socket, ttl);
    } catch (err) {
      if (!(err instanceof SocketOptionError)) throw err;
      this.#warn(err, ttl);
    }
  }

  #warn(err: SocketOptionError, ttl: number): void {
    if (err.code === 'SOCKOPT_NO_FD') {
      // The peer reset the connection before we got to it; its close event ends the connection.
      this.log.debug({ code: 'BGP_TTL_NOT_SET', err: err.message }, `TTL ${ttl} not set: connection already gone`);
      return;
    }
    if (this.#warned.has(err.code)) return;
    this.#warned.add(err.code);
    const code = err.code === 'SOCKOPT_UNAVAILABLE' ? 'BGP_TTL_UNSUPPORTED' : 'BGP_TTL_FAILED';
    this.log.warn(
      { code, ttl, err: err.message },
      `cannot set TTL ${ttl} for ${this.neighbor.address}; its packets leave with the system default TTL (see src/speaker/session/ttl.ts for a per-route hoplimit workaround)`,
    );
  }
}
