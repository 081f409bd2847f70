/**
 * The BGP wire codec: pure functions between bytes and the message model of types.ts.
 *
 * Supported: RFC 4271 (BGP-4), 4760 (multiprotocol, IPv4/IPv6 unicast), 6793 (4-octet AS,
 * AS4_PATH/AS_TRANS), 2918 and 7313 (route refresh, enhanced), 4724 (graceful restart, End-of-RIB),
 * 8950 (IPv4 NLRI with IPv6 next hop), 8654 (extended messages), 9072 (extended optional
 * parameters length), 5492 (capabilities), 1997/4360/8092 (communities, extended, large),
 * 7606 (revised UPDATE error handling), 4486/9003 (Cease subcodes, shutdown communication),
 * 7607 (AS 0), 6286 (BGP identifier).
 *
 * Layout: header.ts (framing), open.ts + capabilities.ts, update.ts + attributes/ (the attribute
 * table), notification.ts, route-refresh.ts, message.ts (dispatch), pack.ts (UPDATE packing,
 * End-of-RIB, attribute blocks for GoBGP), community-text.ts (text forms), prefix.ts, address.ts.
 */
export * from './types.js';
export {
  NotificationError,
  CodecInputError,
  NOTIFICATIONS,
  ACTION_STRENGTH,
  CeaseSubcode,
  ErrorCode,
  describeNotification,
  notificationId,
  type ErrorAction,
  type NotificationId,
} from './errors.js';
export { readMessageLength, maxMessageLength } from './header.js';
export { encodeMessage, decodeMessage } from './message.js';
export { BGP_VERSION, peerAsOf, twoOctetAs, validateOpen, negotiateCodecOptions, type OpenExpectations } from './open.js';
export { encodeCapabilityTlvs, decodeCapabilityTlvs } from './capabilities.js';
export {
  ceaseNotification,
  encodeShutdownCommunication,
  decodeShutdownCommunication,
  shutdownCommunicationOf,
  MAX_SHUTDOWN_COMMUNICATION,
} from './notification.js';
export { encodeAttributeBlock, encodeAttributeList, unknownForPropagation } from './update.js';
export { effectiveAsPath, effectiveAggregator, reconstructAsPath, asPathLength } from './attributes/as-path.js';
export { canonicalPrefix, parsePrefix, formatPrefix, encodeNlri, decodePrefixes } from './prefix.js';
export { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './address.js';
export { packUpdates, endOfRib, encodePathAttributes } from './pack.js';
export {
  parseCommunity,
  formatCommunity,
  communityName,
  WELL_KNOWN_COMMUNITIES,
  parseLargeCommunity,
  formatLargeCommunity,
  parseExtendedCommunity,
  formatExtendedCommunity,
} from './community-text.js';
