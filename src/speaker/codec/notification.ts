/**
 * NOTIFICATION (RFC 4271 §4.5), Cease subcodes (RFC 4486) and the shutdown communication of
 * RFC 9003: for Administrative Shutdown (2) and Administrative Reset (4) the data may hold a
 * length octet and up to 255 octets of UTF-8 text, shown to the peer's operator.
 */
import { copyBytes } from './bytes.js';
import { CeaseSubcode, ErrorCode } from './errors.js';
import { MessageType, type NotificationMessage } from './types.js';

export const MAX_SHUTDOWN_COMMUNICATION = 255;

export function encodeNotificationBody(msg: NotificationMessage): Uint8Array {
  const out = new Uint8Array(2 + msg.data.length);
  out[0] = msg.code;
  out[1] = msg.subcode;
  out.set(msg.data, 2);
  return out;
}

/** Any code and subcode is accepted: RFC 4271 §6 never answers a NOTIFICATION with another. */
export function decodeNotificationBody(body: Uint8Array): NotificationMessage {
  return { type: MessageType.Notification, code: body[0] ?? 0, subcode: body[1] ?? 0, data: copyBytes(body, 2) };
}

/**
 * RFC 9003 §2 shutdown communication: a length octet then UTF-8. Text longer than 255 octets
 * is cut at a character boundary, never inside a multi-octet sequence.
 */
export function encodeShutdownCommunication(text: string): Uint8Array {
  let bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_SHUTDOWN_COMMUNICATION) {
    let end = MAX_SHUTDOWN_COMMUNICATION;
    // Back up over continuation octets (10xxxxxx) to the start of the cut character.
    while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  const out = new Uint8Array(1 + bytes.length);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of a shutdown communication, or undefined when the data does not hold a valid one
 * (RFC 9003 §3: a malformed communication is logged as such, never an error).
 */
export function decodeShutdownCommunication(data: Uint8Array): string | undefined {
  if (data.length === 0) return undefined;
  const len = data[0] ?? 0;
  if (len === 0 || 1 + len > data.length) return undefined;
  try {
    return utf8.decode(data.subarray(1, 1 + len));
  } catch {
    return undefined; // invalid UTF-8: RFC 9003 §3 says treat as malformed, not as an error
  }
}

const CARRIES_COMMUNICATION = new Set<number>([CeaseSubcode.AdministrativeShutdown, CeaseSubcode.AdministrativeReset]);

/** A Cease NOTIFICATION; `text` is sent only with Administrative Shutdown or Reset (RFC 9003 §2). */
export function ceaseNotification(subcode: CeaseSubcode, text?: string): NotificationMessage {
  const data = text !== undefined && text !== '' && CARRIES_COMMUNICATION.has(subcode) ? encodeShutdownCommunication(text) : new Uint8Array(0);
  return { type: MessageType.Notification, code: ErrorCode.Cease, subcode, data };
}

/** The shutdown communication in a received Cease, if any. */
export function shutdownCommunicationOf(msg: NotificationMessage): string | undefined {
  if (msg.code !== ErrorCode.Cease || !CARRIES_COMMUNICATION.has(msg.subcode)) return undefined;
  return decodeShutdownCommunication(msg.data);
}
