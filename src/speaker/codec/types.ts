/**
 * BGP-4 message model (RFC 4271 §4) shared by the wire codec and the session layer.
 * The codec is pure: bytes <-> these objects, no sockets, no timers.
 *
 * Public API of the codec (src/speaker/codec/index.ts):
 *   encodeMessage(msg: BgpMessage, opts: CodecOptions): Buffer        // one whole message incl. header
 *   decodeMessage(buf: Uint8Array, opts: CodecOptions): DecodedMessage // one whole message incl. header
 *   readMessageLength(buf: Uint8Array, opts: CodecOptions): number | undefined
 *       // framing: total length of the first message once 19 header bytes are present; throws
 *       // NotificationError for a bad marker, length or type (RFC 4271 §6.1)
 *   packUpdates(routes: OutboundRoute[], withdrawals: OutboundWithdrawal[], opts: CodecOptions): Buffer[]
 *       // encoded UPDATE messages, prefixes sharing attributes packed up to the max message size
 *   endOfRib(family: AddressFamily, opts?): Buffer                    // RFC 4724 §2
 *   encodePathAttributes(route, opts): Buffer[]   // one TLV per attribute (GoBGP pattrs_binary)
 *   encodeNlri(prefix): Buffer                    // one prefix in wire form (GoBGP nlri_binary)
 *   OPEN helpers: validateOpen, negotiateCodecOptions, peerAsOf, twoOctetAs
 *   NOTIFICATION helpers: ceaseNotification, encode/decodeShutdownCommunication (RFC 9003),
 *       shutdownCommunicationOf, describeNotification
 *   Text helpers: parse/formatCommunity (+ well-known names), parse/formatLargeCommunity,
 *       parse/formatExtendedCommunity, canonicalPrefix; AS path: effectiveAsPath (RFC 6793 §4.2.3)
 * Errors: decoders throw NotificationError (src/speaker/codec/errors.ts), which *is* the
 * NOTIFICATION to send (code, subcode, data, stable `id` such as 'BGP_OPEN_BAD_HOLD_TIME',
 * toMessage()). RFC 7606 outcomes that do not reset the session are reported on DecodedUpdate
 * instead (treatAsWithdraw, discarded attributes). Encoders throw CodecInputError (stable `code`)
 * for invalid input from our own side. Decoded byte arrays never alias the input buffer.
 */
import type { AddressFamily, Origin } from '../../backend/types.js';

export type { AddressFamily, Origin };

export const BGP_PORT = 179;
export const AS_TRANS = 23456;
export const HEADER_LENGTH = 19;
export const MAX_MESSAGE_LENGTH = 4096;
export const EXTENDED_MAX_MESSAGE_LENGTH = 65535;

export const enum MessageType {
  Open = 1,
  Update = 2,
  Notification = 3,
  Keepalive = 4,
  RouteRefresh = 5,
}

/** AFI/SAFI (RFC 4760): we originate unicast only. */
export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const SAFI_UNICAST = 1;

/** What the session negotiated; changes how messages are encoded and decoded. */
export interface CodecOptions {
  /** RFC 6793: both sides advertised the 4-octet AS capability. */
  fourOctetAs: boolean;
  /** RFC 8654: both sides advertised extended messages (max 65535). */
  extendedMessage: boolean;
  /** RFC 8950: IPv4 NLRI may carry an IPv6 next hop (in MP_REACH_NLRI). */
  extendedNextHopIpv4: boolean;
}

export type Capability =
  | { kind: 'multiprotocol'; afi: number; safi: number } // code 1, RFC 4760
  | { kind: 'route-refresh' } // code 2, RFC 2918
  | { kind: 'extended-next-hop'; entries: Array<{ afi: number; safi: number; nextHopAfi: number }> } // code 5, RFC 8950
  | { kind: 'extended-message' } // code 6, RFC 8654
  | {
      kind: 'graceful-restart'; // code 64, RFC 4724
      restarting: boolean;
      restartTimeSec: number;
      /** RFC 8538 §2 "N" bit: the peer supports graceful restart for NOTIFICATION too. */
      notification?: boolean;
      families: Array<{ afi: number; safi: number; forwardingPreserved: boolean }>;
    }
  | { kind: 'four-octet-as'; asn: number } // code 65, RFC 6793
  | { kind: 'enhanced-route-refresh' } // code 70, RFC 7313
  | { kind: 'unknown'; code: number; value: Uint8Array };

export interface OpenMessage {
  type: MessageType.Open;
  version: number;
  /** The 2-octet "My Autonomous System" field as on the wire (AS_TRANS when the real AS needs 4 octets). */
  myAs: number;
  holdTimeSec: number;
  /** BGP Identifier, dotted quad. */
  routerId: string;
  capabilities: Capability[];
}

export interface KeepaliveMessage {
  type: MessageType.Keepalive;
}

export interface NotificationMessage {
  type: MessageType.Notification;
  code: number;
  subcode: number;
  data: Uint8Array;
}

export interface RouteRefreshMessage {
  type: MessageType.RouteRefresh;
  afi: number;
  /** RFC 7313 message subtype (0 = normal request, 1 = BoRR, 2 = EoRR). */
  subtype: number;
  safi: number;
}

export interface Prefix {
  family: AddressFamily;
  /** Canonical text, e.g. "192.0.2.10/32". */
  prefix: string;
}

export type AsPathSegment = { type: 'sequence' | 'set' | 'confed-sequence' | 'confed-set'; asns: number[] };

/** Decoded path attributes. Unknown optional attributes are kept raw (transitive ones must be propagated). */
export interface PathAttributes {
  origin?: Origin;
  asPath?: AsPathSegment[];
  /** IPv4 NEXT_HOP attribute (code 3). */
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  communities?: number[]; // each 32-bit
  extendedCommunities?: Uint8Array[]; // each 8 bytes
  largeCommunities?: Array<[number, number, number]>;
  as4Path?: AsPathSegment[];
  as4Aggregator?: { asn: number; address: string };
  mpReach?: { afi: number; safi: number; nextHops: string[]; nlri: Prefix[] };
  mpUnreach?: { afi: number; safi: number; withdrawn: Prefix[] };
  unknown?: Array<{ flags: number; code: number; value: Uint8Array }>;
}

export interface UpdateMessage {
  type: MessageType.Update;
  withdrawn: Prefix[];
  attributes: PathAttributes;
  nlri: Prefix[];
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** RFC 7606 outcome of decoding an UPDATE whose errors do not reset the session. */
export interface DecodedUpdate extends UpdateMessage {
  /** RFC 7606 §2 treat-as-withdraw: the NLRI (and MP_REACH NLRI) must be handled as withdrawn. */
  treatAsWithdraw?: RfcFinding;
  /** RFC 7606 §2 attribute discard: attributes dropped (by type code) and why. */
  discarded?: Array<RfcFinding & { code: number }>;
}

/** An UPDATE error handled without a session reset, for logs. */
export interface RfcFinding {
  reason: string;
  /** Stable id of the NOTIFICATION RFC 4271 would have sent (e.g. 'BGP_UPDATE_INVALID_ORIGIN'). */
  id?: string;
  /** That NOTIFICATION itself (code, subcode, data). */
  notification?: NotificationMessage;
}

export type DecodedMessage = OpenMessage | DecodedUpdate | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** A route to originate, already resolved to wire values by the session. */
export interface OutboundRoute {
  prefix: Prefix;
  origin: Origin;
  /** Full AS path as a single AS_SEQUENCE (local AS repeated for prepends); empty for iBGP. */
  asPath: number[];
  /** Next hop(s): one IPv4 for IPv4 NLRI, IPv6 global (+ optional link-local) for IPv6 NLRI. */
  nextHop: string;
  nextHopLinkLocal?: string;
  med?: number;
  localPref?: number;
  communities: number[];
  largeCommunities: Array<[number, number, number]>;
  extendedCommunities: Uint8Array[];
}

export interface OutboundWithdrawal {
  prefix: Prefix;
}
