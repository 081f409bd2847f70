/**
 * ROUTE-REFRESH (RFC 2918 §3) with the RFC 7313 message subtype in the former reserved octet:
 * AFI (2), subtype (1), SAFI (1).
 */
import { copyBytes } from './bytes.js';
import { NotificationError } from './errors.js';
import { MessageType, type RouteRefreshMessage } from './types.js';

export function encodeRouteRefreshBody(msg: RouteRefreshMessage): Uint8Array {
  return Uint8Array.of(msg.afi >> 8, msg.afi & 0xff, msg.subtype, msg.safi);
}

/**
 * `whole` is the complete message: RFC 7313 §5 puts it in the data of the error for a BoRR/EoRR
 * (subtype 1, 2) whose body is not 4 octets. A longer subtype-0 body carries ORF entries
 * (RFC 5291), which we do not support: they are ignored, as RFC 5291 lets a speaker without the
 * ORF capability do.
 */
export function decodeRouteRefreshBody(body: Uint8Array, whole: Uint8Array): RouteRefreshMessage {
  const subtype = body[2] ?? 0;
  if (body.length !== 4 && (subtype === 1 || subtype === 2)) {
    throw new NotificationError('BGP_ROUTE_REFRESH_BAD_LENGTH', `ROUTE-REFRESH subtype ${subtype} of ${whole.length} octets`, copyBytes(whole));
  }
  return { type: MessageType.RouteRefresh, afi: ((body[0] ?? 0) << 8) | (body[1] ?? 0), subtype, safi: body[3] ?? 0 };
}
