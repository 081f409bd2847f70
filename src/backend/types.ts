/**
 * The one seam between the controller and BGP (in the spirit of MetalLB's `Session.Set`):
 * the BgpManager hands a backend the whole desired set of VIP routes; the backend diffs it
 * against what it has advertised and makes the network agree. An empty set means "withdraw
 * everything". The manager never builds a BGP message; a backend never reads a health check.
 *
 * Two implementations: the built-in TypeScript speaker (src/speaker) and the GoBGP sidecar
 * driven over gRPC (src/gobgp).
 */
import type { Logger } from 'pino';

export type AddressFamily = 'ipv4' | 'ipv6';
export type Origin = 'igp' | 'egp' | 'incomplete';

/** Path attributes vipcast controls for one VIP route; the rest (AS_PATH base, next hop default) comes from the session. */
export interface RouteAttributes {
  origin: Origin;
  /** Explicit next hop; undefined: the configured bgp.next_hop for the family, else the session's local address. */
  nextHop?: string;
  /** MULTI_EXIT_DISC (RFC 4271 §5.1.4). */
  med?: number;
  /** LOCAL_PREF (RFC 4271 §5.1.5); sent to iBGP peers only. */
  localPref?: number;
  /** Extra copies of the local AS prepended to AS_PATH (0 = just the local AS). */
  asPathPrepend: number;
  /** RFC 1997 communities in canonical "asn:value" form (well-known ones too, e.g. "65535:0"). */
  communities: string[];
  /** RFC 8092 large communities, "global:local1:local2". */
  largeCommunities: string[];
  /** RFC 4360 extended communities as "rt:ASN:N", "rt:IPv4:N", "soo:ASN:N" or raw 16 hex digits. */
  extendedCommunities: string[];
}

export interface VipRoute {
  /** VIP name from the config; for logs and for recognising our own paths in GoBGP. */
  vip: string;
  /** Canonical host prefix: "192.0.2.10/32" or "2001:db8::10/128". */
  prefix: string;
  family: AddressFamily;
  attributes: RouteAttributes;
}

/** Desired routes keyed by canonical prefix. */
export type DesiredSet = ReadonlyMap<string, VipRoute>;

/** RFC 4271 §8.2.2 state names, lower case as in /v1/peers. */
export type PeerState = 'idle' | 'connect' | 'active' | 'opensent' | 'openconfirm' | 'established';

export interface PeerStatus {
  address: string;
  port: number;
  remoteAs: number;
  description?: string;
  state: PeerState;
  /** When `state` was entered. */
  since: Date;
  /** Why the last transition happened ("hold timer expired", "NOTIFICATION received: Cease/Administrative Shutdown", "connection refused"...). */
  reason?: string;
  /** Routes currently advertised to this peer (as far as the backend knows). */
  advertised?: number;
}

/** One configured neighbor, normalised (durations in seconds, defaults applied). */
export interface NeighborSpec {
  address: string;
  port: number;
  remoteAs: number;
  description?: string;
  /** Never initiate; wait for the peer to connect (needs bgp.listen for the built-in speaker). */
  passive: boolean;
  /** TTL for eBGP; 0 = directly connected (TTL 1). */
  ebgpMultihop: number;
  /**
   * GTSM (RFC 5082): send TTL 255 and accept only packets that arrived with at least
   * 256 - max(ebgpMultihop, 1). Built-in speaker only. Optional: absent means off.
   */
  ttlSecurity?: boolean;
  localAddress?: string;
  /** Families to negotiate with this neighbor. */
  families: AddressFamily[];
  holdTimeSec: number;
  /** TCP-MD5 (RFC 2385) password file: gobgpd sets it, or the built-in speaker through TCP_MD5SIG (src/net/socket-options.ts). */
  passwordFile?: string;
}

export interface BackendOptions {
  localAs: number;
  routerId: string;
  /** Default hold time for neighbors without their own (seconds). */
  holdTimeSec: number;
  /** Built-in speaker: accept incoming sessions here. GoBGP with manage: the daemon's listen port. */
  listen?: { address: string; port: number };
  nextHop: { ipv4?: string; ipv6?: string };
  neighbors: NeighborSpec[];
  logger: Logger;
}

export interface Readiness {
  ready: boolean;
  /** Human readable; says why when not ready. */
  reason: string;
}

export type PeerListener = (peer: PeerStatus) => void;

export interface BgpBackend {
  readonly kind: 'builtin' | 'gobgp';
  /** Connect / open sessions. Resolves once running (not necessarily with peers established). */
  start(): Promise<void>;
  /**
   * Make the advertised set equal to `desired`. Resolves when the change is confirmed:
   * built-in speaker: the UPDATEs were written to every established peer;
   * GoBGP: the daemon acknowledged the AddPath/DeletePath calls.
   * Calls are serialised by the backend; a newer call supersedes queued older ones.
   */
  apply(desired: DesiredSet): Promise<void>;
  /**
   * Level-triggered drift repair (GoBGP: ListPath and fix; built-in: no-op, sessions re-send on reconnect).
   * Also used by shutdown to confirm withdrawal: resolves when the backend's own view equals the last applied set.
   */
  resync(): Promise<void>;
  /** Neighbors changed on reload. */
  updateNeighbors(neighbors: NeighborSpec[]): Promise<void>;
  peers(): PeerStatus[];
  readiness(): Readiness;
  onPeerChange(listener: PeerListener): void;
  /** Close sessions (built-in: NOTIFICATION Cease/Administrative Shutdown with `message`, RFC 9003). */
  stop(message: string): Promise<void>;
}
