/**
 * eBGP TTL: a directly connected eBGP peer is sent TTL 1 (the common practice that RFC 4271
 * leaves to implementations, and the default of BIRD, FRR and GoBGP), a multihop one the
 * configured `ebgp_multihop`, an iBGP one the system default. A peer that is not directly
 * connected then never receives our messages and the session does not come up, instead of
 * running over a path nobody configured.
 *
 * How: Node.js has no TTL option on TCP sockets, so src/net/socket-options.ts calls setsockopt
 * through koffi: IP_TTL for IPv4 (including an IPv4 peer on a dual-stack listener, whose AF_INET6
 * socket sends IPv4) or IPV6_UNICAST_HOPS.
 * - Outbound: the socket is created with socket(2), given its TTL, and only then handed to
 *   net.Socket to connect, so the SYN already carries it. A peer 2 hops away without
 *   `ebgp_multihop` never sees even a TCP connection from us (our SYN dies at the router, whose
 *   ICMP time-exceeded fails the connect at once: EHOSTUNREACH).
 * - Inbound: the kernel completes the handshake (its SYN-ACK with the system default TTL,
 *   net.ipv4.ip_default_ttl, usually 64) before vipcast sees the socket; the TTL is set when the
 *   listener hands the connection over, before our first byte. Such a peer holds a TCP
 *   connection but never receives our OPEN, so the session stays down all the same.
 *
 * GTSM (RFC 5082, neighbor `ttl_security: true`, eBGP or iBGP): we send TTL 255 and the kernel
 * drops incoming segments whose TTL is below 256 - hops (IP_MINTTL / IPV6_MINHOPCOUNT), hops
 * being `ebgp_multihop` or 1 (§3: a directly connected peer's packets arrive with 255).
 * Outbound it is in force from the SYN on: a SYN-ACK from further away is dropped. The limit,
 * stated honestly: inbound it is set when we get the accepted socket, so the handshake and any
 * bytes the kernel queued before that (a sender that writes its OPEN at once) are not checked;
 * from then on everything below the minimum is dropped. Closing that gap would take the minimum
 * on the listening socket, which is shared by all neighbors; not done.
 *
 * Where setsockopt cannot be called (koffi or glibc missing, not Linux) a plain TTL is skipped:
 * the session runs with the default TTL and warns once per neighbor (BGP_TTL_UNSUPPORTED).
 * Operators who need the one-hop guarantee there can pin it per destination on Linux:
 * `ip route replace <peer>/32 dev <if> hoplimit 1` applies to every socket without its own TTL;
 * or use the GoBGP backend, which sets it. GTSM instead fails closed: a connection it could not
 * be applied to is dropped (BGP_TTL_SECURITY_FAILED, logged once per neighbor), because a
 * security check that silently is not there is worse than a session that does not come up.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { NeighborSpec } from '../../backend/types.js';
import {
  SocketOptionError,
  connectWithOptions,
  setHopLimit,
  setMinHopLimit,
  socketOptionsAvailable,
  type ConnectTarget,
  type IpOptions,
} from '../../net/socket-options.js';

/** What a neighbor's sockets get: the TTL we send, and with GTSM the lowest TTL we accept. */
export interface TtlPlan {
  ttl?: number;
  minTtl?: number;
}

/** The TTL of a plain (non-GTSM) session: 1 when directly connected eBGP, else ebgp_multihop; iBGP: default. */
export function wantedTtl(n: NeighborSpec, ibgp: boolean): number | undefined {
  if (ibgp) return undefined;
  return n.ebgpMultihop > 0 ? Math.min(n.ebgpMultihop, 255) : 1;
}

export function ttlPlan(n: NeighborSpec, ibgp: boolean): TtlPlan {
  if (n.ttlSecurity) {
    // RFC 5082 §3: send 255; a peer `hops` away arrives with 255 - (hops - 1).
    const hops = Math.min(Math.max(n.ebgpMultihop, 1), 255);
    return { ttl: 255, minTtl: 256 - hops };
  }
  const ttl = wantedTtl(n, ibgp);
  return ttl === undefined ? {} : { ttl };
}

/** The socket-option calls NeighborTtl makes (tests replace them to act out another host). */
export interface HopLimitApi {
  available(): true | SocketOptionError;
  connect(target: ConnectTarget, ip: IpOptions): Socket;
  setHopLimit(socket: Socket, hops: number): void;
  setMinHopLimit(socket: Socket, min: number): void;
}

const SYSTEM: HopLimitApi = { available: socketOptionsAvailable, connect: connectWithOptions, setHopLimit, setMinHopLimit };

/** Applies one neighbor's TTL plan to each of its connections, and says once when it cannot. */
export class NeighborTtl {
  /** Error codes already logged for this neighbor. */
  readonly #logged = new Set<string>();

  constructor(
    private readonly neighbor: NeighborSpec,
    private readonly log: Logger,
    private readonly api: HopLimitApi = SYSTEM,
  ) {}

  /** At session start: say right away if this host cannot set what the neighbor needs. */
  check(ibgp: boolean): void {
    const plan = ttlPlan(this.neighbor, ibgp);
    if (plan.ttl === undefined) return;
    const available = this.api.available();
    if (available !== true) this.#report(available, plan);
  }

  /**
   * An outbound connection with the plan in force from the SYN on. Where that cannot be done,
   * a plain net.connect() (reported once); apply() on 'connect' then tries again and decides.
   */
  connect(target: ConnectTarget, ibgp: boolean): Socket {
    const plan = ttlPlan(this.neighbor, ibgp);
    if (plan.ttl === undefined) return tcpConnect(target);
    try {
      return this.api.connect(target, this.ipOptions(ibgp));
    } catch (err) {
      if (!(err instanceof SocketOptionError)) throw err;
      this.#report(err, plan);
      return tcpConnect(target);
    }
  }

  /** The plan as connectWithOptions() options (the TCP-MD5 connect carries them too). */
  ipOptions(ibgp: boolean): IpOptions {
    const plan = ttlPlan(this.neighbor, ibgp);
    return { hopLimit: plan.ttl, minHopLimit: plan.minTtl };
  }

  /**
   * On a connected socket of this neighbor, before our first byte is written (again, for an
   * outbound one from connect(): cheap, and it covers the fallback). False when GTSM
   * is configured and could not be applied: the caller drops the connection.
   */
  apply(socket: Socket, ibgp: boolean): boolean {
    const plan = ttlPlan(this.neighbor, ibgp);
    try {
      if (plan.ttl !== undefined) this.api.setHopLimit(socket, plan.ttl);
      if (plan.minTtl !== undefined) this.api.setMinHopLimit(socket, plan.minTtl);
      return true;
    } catch (err) {
      if (!(err instanceof SocketOptionError)) throw err;
      this.#report(err, plan);
      return plan.minTtl === undefined;
    }
  }

  #report(err: SocketOptionError, plan: TtlPlan): void {
    const what = plan.minTtl === undefined ? `TTL ${plan.ttl}` : `TTL security (send ${plan.ttl}, accept >= ${plan.minTtl})`;
    if (err.code === 'SOCKOPT_NO_FD') {
      // The peer reset the connection before we got to it; its close event ends the connection.
      this.log.debug({ code: 'BGP_TTL_NOT_SET', err: err.message }, `${what} not set: connection already gone`);
      return;
    }
    if (this.#logged.has(err.code)) return;
    this.#logged.add(err.code);
    if (plan.minTtl !== undefined) {
      this.log.error(
        { code: 'BGP_TTL_SECURITY_FAILED', ttl: plan.ttl, min_ttl: plan.minTtl, err: err.message },
        `cannot set ${what} for ${this.neighbor.address}: its connections are dropped (ttl_security fails closed)`,
      );
      return;
    }
    const code = err.code === 'SOCKOPT_UNAVAILABLE' ? 'BGP_TTL_UNSUPPORTED' : 'BGP_TTL_FAILED';
    this.log.warn(
      { code, ttl: plan.ttl, err: err.message },
      `cannot set ${what} for ${this.neighbor.address}; its packets leave with the system default TTL (see src/speaker/session/ttl.ts for a per-route hoplimit workaround)`,
    );
  }
}
