/**
 * Whole messages: header plus body, dispatched by type. encodeMessage refuses to build a message
 * above the session's maximum (4096, or 65535 with RFC 8654 except OPEN and KEEPALIVE);
 * decodeMessage validates the header exactly as readMessageLength does, then the body.
 */
import { CodecInputError, NotificationError, u16Data } from './errors.js';
import { maxMessageLength, readMessageLength, writeHeader } from './header.js';
import { decodeNotificationBody, encodeNotificationBody } from './notification.js';
import { decodeOpenBody, encodeOpenBody } from './open.js';
import { decodeRouteRefreshBody, encodeRouteRefreshBody } from './route-refresh.js';
import { decodeUpdateBody, encodeUpdateBody } from './update.js';
import { HEADER_LENGTH, MessageType, type BgpMessage, type CodecOptions, type DecodedMessage } from './types.js';

function encodeBody(msg: BgpMessage, opts: CodecOptions): Uint8Array {
  switch (msg.type) {
    case MessageType.Open:
      return encodeOpenBody(msg);
    case MessageType.Update:
      return encodeUpdateBody(msg, opts);
    case MessageType.Notification:
      return encodeNotificationBody(msg);
    case MessageType.Keepalive:
      return new Uint8Array(0);
    case MessageType.RouteRefresh:
      return encodeRouteRefreshBody(msg);
  }
}

/** One whole message, header included. */
export function encodeMessage(msg: BgpMessage, opts: CodecOptions): Buffer {
  const body = encodeBody(msg, opts);
  const length = HEADER_LENGTH + body.length;
  const max = maxMessageLength(opts, msg.type);
  if (length > max) throw new CodecInputError('BGP_ENCODE_TOO_LONG', `message type ${msg.type} of ${length} octets above ${max}`);
  const out = Buffer.allocUnsafe(length);
  writeHeader(out, length, msg.type);
  out.set(body, HEADER_LENGTH);
  return out;
}

/**
 * Decodes exactly one whole message (header included). Returns the message or throws the
 * NotificationError to send; never anything else.
 */
export function decodeMessage(buf: Uint8Array, opts: CodecOptions): DecodedMessage {
  const length = readMessageLength(buf, opts);
  // A buffer that is not exactly one message is a framing mistake of ours or a lying length field.
  if (length === undefined || length !== buf.length) {
    const field = buf.length >= 18 ? ((buf[16] ?? 0) << 8) | (buf[17] ?? 0) : buf.length;
    throw new NotificationError('BGP_HEADER_BAD_LENGTH', `length field ${field} for ${buf.length} octets`, u16Data(field));
  }
  const body = buf.subarray(HEADER_LENGTH, length);
  switch (buf[18] as MessageType) {
    case MessageType.Open:
      return decodeOpenBody(body);
    case MessageType.Update:
      return decodeUpdateBody(body, opts);
    case MessageType.Notification:
      return decodeNotificationBody(body);
    case MessageType.Keepalive:
      return { type: MessageType.Keepalive };
    case MessageType.RouteRefresh:
      return decodeRouteRefreshBody(body, buf.subarray(0, length));
  }
}
