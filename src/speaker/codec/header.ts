/**
 * Message header (RFC 4271 §4.1): 16-octet marker of all ones, 2-octet length, 1-octet type.
 * readMessageLength is the framing step: it validates the whole header (§6.1) as soon as 19
 * bytes are buffered, so a peer announcing a 60 KB message on a 4 KB session is refused before
 * we wait for its body.
 */
import { NotificationError, u16Data } from './errors.js';
import { EXTENDED_MAX_MESSAGE_LENGTH, HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType, type CodecOptions } from './types.js';

/** RFC 8654 §4: the extended maximum applies to every message except OPEN and KEEPALIVE. */
export function maxMessageLength(opts: CodecOptions, type?: number): number {
  if (type === MessageType.Open || type === MessageType.Keepalive) return MAX_MESSAGE_LENGTH;
  return opts.extendedMessage ? EXTENDED_MAX_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

/** Smallest valid length per type (§4.2-§4.5, RFC 2918 §3). */
const MIN_LENGTH: Record<number, number> = {
  [MessageType.Open]: 29,
  [MessageType.Update]: 23,
  [MessageType.Notification]: 21,
  [MessageType.Keepalive]: 19,
  [MessageType.RouteRefresh]: 23,
};

/** Writes marker, length and type at out[0..19). */
export function writeHeader(out: Uint8Array, length: number, type: MessageType): void {
  out.fill(0xff, 0, 16);
  out[16] = length >> 8;
  out[17] = length & 0xff;
  out[18] = type;
}

/**
 * Total length of the first message in `buf` once its 19 header bytes are present (undefined
 * before). Throws the §6.1 NOTIFICATION for a bad marker, length or type.
 */
export function readMessageLength(buf: Uint8Array, opts: CodecOptions): number | undefined {
  if (buf.length < HEADER_LENGTH) return undefined;
  for (let i = 0; i < 16; i++) {
    if (buf[i] !== 0xff) throw new NotificationError('BGP_HEADER_NOT_SYNCHRONIZED', 'marker is not all ones');
  }
  const length = ((buf[16] ?? 0) << 8) | (buf[17] ?? 0);
  const type = buf[18] ?? 0;
  const min = MIN_LENGTH[type];
  if (length < HEADER_LENGTH || length > maxMessageLength(opts)) {
    throw new NotificationError('BGP_HEADER_BAD_LENGTH', `length ${length}`, u16Data(length));
  }
  if (min === undefined) throw new NotificationError('BGP_HEADER_BAD_TYPE', `type ${type}`, Uint8Array.of(type));
  // §6.1: OPEN, UPDATE, NOTIFICATION shorter than their minimum, KEEPALIVE other than 19.
  if (length < min || length > maxMessageLength(opts, type) || ((type as MessageType) === MessageType.Keepalive && length !== HEADER_LENGTH)) {
    throw new NotificationError('BGP_HEADER_BAD_LENGTH', `length ${length} for message type ${type}`, u16Data(length));
  }
  return length;
}
