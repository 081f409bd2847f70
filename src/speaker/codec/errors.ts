/**
 * Codec errors. A decoder's error *is* the NOTIFICATION to send (RFC 4271 §6): NotificationError
 * carries the code, subcode and data of that message, plus a stable string id for logs, metrics
 * and tests (tests assert ids and bytes, never message text).
 *
 * The catalogue below lists every NOTIFICATION the codec and the session layer may send, with the
 * RFC that defines it. `describeNotification` names a received one for logs and /v1/peers.
 */
import { MessageType, type NotificationMessage } from './types.js';

/** RFC 7606 §2 error-handling approaches, weakest first: "the strongest action wins" (§3 j). */
export type ErrorAction = 'attribute-discard' | 'treat-as-withdraw' | 'session-reset';

export const ACTION_STRENGTH: Record<ErrorAction, number> = {
  'attribute-discard': 1,
  'treat-as-withdraw': 2,
  'session-reset': 3,
};

/** Error codes (RFC 4271 §4.5, RFC 7313 §5). */
export const ErrorCode = {
  MessageHeader: 1,
  Open: 2,
  Update: 3,
  HoldTimerExpired: 4,
  Fsm: 5,
  Cease: 6,
  RouteRefresh: 7,
} as const;

/** Cease subcodes (RFC 4486, RFC 8538 Hard Reset, RFC 9384 BFD Down). */
export const CeaseSubcode = {
  MaxPrefixes: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollision: 7,
  OutOfResources: 8,
  HardReset: 9,
  BfdDown: 10,
} as const;
export type CeaseSubcode = (typeof CeaseSubcode)[keyof typeof CeaseSubcode];

/** Stable ids -> [code, subcode, short name]. */
export const NOTIFICATIONS = {
  // RFC 4271 §6.1 message header errors
  BGP_HEADER_NOT_SYNCHRONIZED: [1, 1, 'Message Header Error/Connection Not Synchronized'],
  BGP_HEADER_BAD_LENGTH: [1, 2, 'Message Header Error/Bad Message Length'],
  BGP_HEADER_BAD_TYPE: [1, 3, 'Message Header Error/Bad Message Type'],
  // RFC 4271 §6.2 OPEN errors (+ RFC 5492 unsupported capability)
  BGP_OPEN_UNSPECIFIC: [2, 0, 'OPEN Message Error/Unspecific'],
  BGP_OPEN_UNSUPPORTED_VERSION: [2, 1, 'OPEN Message Error/Unsupported Version Number'],
  BGP_OPEN_BAD_PEER_AS: [2, 2, 'OPEN Message Error/Bad Peer AS'],
  BGP_OPEN_BAD_BGP_ID: [2, 3, 'OPEN Message Error/Bad BGP Identifier'],
  BGP_OPEN_UNSUPPORTED_OPTIONAL_PARAMETER: [2, 4, 'OPEN Message Error/Unsupported Optional Parameter'],
  BGP_OPEN_BAD_HOLD_TIME: [2, 6, 'OPEN Message Error/Unacceptable Hold Time'],
  BGP_OPEN_UNSUPPORTED_CAPABILITY: [2, 7, 'OPEN Message Error/Unsupported Capability'],
  // RFC 4271 §6.3 UPDATE errors
  BGP_UPDATE_MALFORMED_ATTRIBUTE_LIST: [3, 1, 'UPDATE Message Error/Malformed Attribute List'],
  BGP_UPDATE_UNRECOGNIZED_WELL_KNOWN: [3, 2, 'UPDATE Message Error/Unrecognized Well-known Attribute'],
  BGP_UPDATE_MISSING_WELL_KNOWN: [3, 3, 'UPDATE Message Error/Missing Well-known Attribute'],
  BGP_UPDATE_ATTRIBUTE_FLAGS: [3, 4, 'UPDATE Message Error/Attribute Flags Error'],
  BGP_UPDATE_ATTRIBUTE_LENGTH: [3, 5, 'UPDATE Message Error/Attribute Length Error'],
  BGP_UPDATE_INVALID_ORIGIN: [3, 6, 'UPDATE Message Error/Invalid ORIGIN Attribute'],
  BGP_UPDATE_INVALID_NEXT_HOP: [3, 8, 'UPDATE Message Error/Invalid NEXT_HOP Attribute'],
  BGP_UPDATE_OPTIONAL_ATTRIBUTE: [3, 9, 'UPDATE Message Error/Optional Attribute Error'],
  BGP_UPDATE_INVALID_NETWORK_FIELD: [3, 10, 'UPDATE Message Error/Invalid Network Field'],
  BGP_UPDATE_MALFORMED_AS_PATH: [3, 11, 'UPDATE Message Error/Malformed AS_PATH'],
  // RFC 4271 §6.5, §6.6 (+ RFC 6608 FSM subcodes)
  BGP_HOLD_TIMER_EXPIRED: [4, 0, 'Hold Timer Expired'],
  BGP_FSM_ERROR: [5, 0, 'Finite State Machine Error'],
  BGP_FSM_UNEXPECTED_IN_OPENSENT: [5, 1, 'Finite State Machine Error/Unexpected Message in OpenSent'],
  BGP_FSM_UNEXPECTED_IN_OPENCONFIRM: [5, 2, 'Finite State Machine Error/Unexpected Message in OpenConfirm'],
  BGP_FSM_UNEXPECTED_IN_ESTABLISHED: [5, 3, 'Finite State Machine Error/Unexpected Message in Established'],
  // RFC 4486 Cease subcodes
  BGP_CEASE: [6, 0, 'Cease'],
  BGP_CEASE_MAX_PREFIXES: [6, 1, 'Cease/Maximum Number of Prefixes Reached'],
  BGP_CEASE_ADMIN_SHUTDOWN: [6, 2, 'Cease/Administrative Shutdown'],
  BGP_CEASE_PEER_DECONFIGURED: [6, 3, 'Cease/Peer De-configured'],
  BGP_CEASE_ADMIN_RESET: [6, 4, 'Cease/Administrative Reset'],
  BGP_CEASE_CONNECTION_REJECTED: [6, 5, 'Cease/Connection Rejected'],
  BGP_CEASE_OTHER_CONFIG_CHANGE: [6, 6, 'Cease/Other Configuration Change'],
  BGP_CEASE_CONNECTION_COLLISION: [6, 7, 'Cease/Connection Collision Resolution'],
  BGP_CEASE_OUT_OF_RESOURCES: [6, 8, 'Cease/Out of Resources'],
  BGP_CEASE_HARD_RESET: [6, 9, 'Cease/Hard Reset'],
  BGP_CEASE_BFD_DOWN: [6, 10, 'Cease/BFD Down'],
  // RFC 7313 §5
  BGP_ROUTE_REFRESH_BAD_LENGTH: [7, 1, 'ROUTE-REFRESH Message Error/Invalid Message Length'],
} as const satisfies Record<string, readonly [number, number, string]>;

export type NotificationId = keyof typeof NOTIFICATIONS;

const EMPTY = new Uint8Array(0);

/**
 * The NOTIFICATION to send, thrown by decoders. `action` is set only on errors an UPDATE decoder
 * may downgrade per RFC 7606; an error that escapes decodeMessage always means session reset.
 */
export class NotificationError extends Error {
  override readonly name = 'NotificationError';
  readonly code: number;
  readonly subcode: number;

  constructor(
    /** Stable id such as 'BGP_OPEN_BAD_HOLD_TIME'. */
    readonly id: NotificationId,
    /** What exactly was wrong, for logs. */
    readonly detail: string,
    /** NOTIFICATION data field, exactly as RFC 4271 §6 prescribes for this error. */
    readonly data: Uint8Array = EMPTY,
    /** RFC 7606 approach, used by the UPDATE decoder (default: the attribute's own). */
    readonly action?: ErrorAction,
  ) {
    const [code, subcode, label] = NOTIFICATIONS[id];
    super(`${label}: ${detail}`);
    this.code = code;
    this.subcode = subcode;
  }

  /** The same error under a different RFC 7606 approach. */
  withAction(action: ErrorAction): NotificationError {
    return new NotificationError(this.id, this.detail, this.data, action);
  }

  toMessage(): NotificationMessage {
    return { type: MessageType.Notification, code: this.code, subcode: this.subcode, data: this.data };
  }
}

/** Thrown by encoders and text helpers for invalid input from our own side (never sent to a peer). */
export class CodecInputError extends Error {
  override readonly name = 'CodecInputError';
  constructor(
    readonly code:
      | 'BGP_ENCODE_BAD_ADDRESS'
      | 'BGP_ENCODE_BAD_PREFIX'
      | 'BGP_ENCODE_BAD_COMMUNITY'
      | 'BGP_ENCODE_BAD_VALUE'
      | 'BGP_ENCODE_TOO_LONG'
      | 'BGP_ENCODE_NEXT_HOP_FAMILY',
    message: string,
  ) {
    super(message);
  }
}

const BY_CODE = new Map<number, NotificationId>();
for (const [id, [code, subcode]] of Object.entries(NOTIFICATIONS) as Array<[NotificationId, readonly [number, number, string]]>) {
  BY_CODE.set(code * 256 + subcode, id);
}

/** Stable id of a (code, subcode) pair, if we know it. */
export function notificationId(code: number, subcode: number): NotificationId | undefined {
  return BY_CODE.get(code * 256 + subcode);
}

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

/** "Cease/Administrative Shutdown", or "Cease/subcode 42" for subcodes we do not know. */
export function describeNotification(code: number, subcode: number): string {
  const id = notificationId(code, subcode);
  if (id) return NOTIFICATIONS[id][2];
  const name = CODE_NAMES[code] ?? `error code ${code}`;
  return subcode === 0 ? name : `${name}/subcode ${subcode}`;
}

/** Two-byte big-endian value, e.g. the erroneous Length field for BGP_HEADER_BAD_LENGTH. */
export function u16Data(value: number): Uint8Array {
  return Uint8Array.of((value >> 8) & 0xff, value & 0xff);
}
