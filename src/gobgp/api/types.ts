/**
 * Typed view of the part of GoBGP's gRPC API that vipcast uses, common to both generations.
 *
 * The .proto files (proto/gobgp/v3, proto/gobgp/v4) are loaded with keepCase (snake_case field
 * names as in the .proto), numeric enums and longs as numbers. With paths exchanged as raw BGP
 * bytes (nlri_binary, pattrs_binary) the messages below have the same field names and numbers in
 * v3 (package apipb) and v4 (package api); only a few enum values differ, and those are kept in
 * GENERATIONS (api/generation.ts), never spread through the code.
 */

export interface ApiFamily {
  /** 1 = IPv4, 2 = IPv6 (RFC 4760 AFI). */
  afi: number;
  /** 1 = unicast. */
  safi: number;
}

export interface ApiGlobal {
  asn?: number;
  router_id?: string;
  /** -1: do not listen. */
  listen_port?: number;
  listen_addresses?: string[];
}

export interface ApiPath {
  family?: ApiFamily;
  nlri_binary?: Uint8Array;
  /** One complete attribute TLV (flags, type, length, value) per element. */
  pattrs_binary?: Uint8Array[];
  is_withdraw?: boolean;
  /** RFC 7911 path identifier; vipcast's marker for its own paths (see paths.ts). */
  identifier?: number;
  /** Set by the daemon on ListPath: the peer a path came from (empty or unspecified for local paths). */
  neighbor_ip?: string;
  source_asn?: number;
  best?: boolean;
  age?: ApiTimestamp;
}

export interface ApiDestination {
  prefix: string;
  paths?: ApiPath[];
}

export interface ApiPeerConf {
  neighbor_address?: string;
  peer_asn?: number;
  local_asn?: number;
  description?: string;
  auth_password?: string;
  admin_down?: boolean;
}

export interface ApiPeerState {
  neighbor_address?: string;
  peer_asn?: number;
  /** 1 idle .. 6 established in both generations (0 unknown/unspecified). */
  session_state?: number;
  admin_state?: number;
  description?: string;
  /** v4 only. */
  disconnect_reason?: number;
  disconnect_message?: string;
}

export interface ApiTimestamp {
  seconds?: number;
  nanos?: number;
}

export interface ApiTimers {
  config?: { connect_retry?: number; hold_time?: number; keepalive_interval?: number; idle_hold_time_after_reset?: number };
  state?: { hold_time?: number; negotiated_hold_time?: number; uptime?: ApiTimestamp; downtime?: ApiTimestamp };
}

export interface ApiTransport {
  local_address?: string;
  passive_mode?: boolean;
  remote_address?: string;
  remote_port?: number;
  local_port?: number;
}

export interface ApiAfiSafi {
  config?: { family?: ApiFamily; enabled?: boolean };
}

export interface ApiPeer {
  conf?: ApiPeerConf;
  state?: ApiPeerState;
  ebgp_multihop?: { enabled?: boolean; multihop_ttl?: number };
  timers?: ApiTimers;
  transport?: ApiTransport;
  afi_safis?: ApiAfiSafi[];
}

export interface ApiPeerEvent {
  /** 1 init, 2 end of init, 3 state (both generations). */
  type?: number;
  peer?: ApiPeer;
}

export interface ApiWatchEventResponse {
  peer?: ApiPeerEvent;
  /** With oneofs: true the loader names the populated member. */
  event?: string;
}

export const PEER_EVENT_INIT = 1;
export const PEER_EVENT_END_OF_INIT = 2;
export const PEER_EVENT_STATE = 3;

export const AFI_IP = 1;
export const AFI_IP6 = 2;
export const SAFI_UNICAST = 1;
