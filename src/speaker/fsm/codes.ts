/**
 * NOTIFICATION codes the FSM itself raises (RFC 4271 §4.5, RFC 6608, RFC 4486). Decoding
 * errors come from the codec as NotificationError; these are the ones the state machine emits
 * on its own, kept here so the FSM stays free of any codec dependency.
 */
import type { NotificationSpec } from './types.js';

export const ErrorCode = {
  MessageHeader: 1,
  OpenMessage: 2,
  UpdateMessage: 3,
  HoldTimerExpired: 4,
  FiniteStateMachine: 5,
  Cease: 6,
} as const;

/** RFC 6608 §3: FSM Error subcodes. */
export const FsmErrorSubcode = {
  UnexpectedInOpenSent: 1,
  UnexpectedInOpenConfirm: 2,
  UnexpectedInEstablished: 3,
} as const;

/** RFC 4486 §4: Cease subcodes. */
export const CeaseSubcode = {
  MaxPrefixes: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
} as const;

export const holdTimerExpired = (): NotificationSpec => ({ code: ErrorCode.HoldTimerExpired, subcode: 0 });
export const cease = (subcode: number, data?: Uint8Array): NotificationSpec => ({ code: ErrorCode.Cease, subcode, data });
export const fsmError = (subcode: number): NotificationSpec => ({ code: ErrorCode.FiniteStateMachine, subcode });

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
  },
  3: {
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: { 1: 'Unexpected Message in OpenSent', 2: 'Unexpected Message in OpenConfirm', 3: 'Unexpected Message in Established' },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
  },
};

/** "Cease/Administrative Shutdown", for transition reasons and logs. */
export function notificationName(code: number, subcode: number): string {
  const name = CODE_NAMES[code] ?? `code ${code}`;
  if (subcode === 0) return name;
  return `${name}/${SUBCODE_NAMES[code]?.[subcode] ?? `subcode ${subcode}`}`;
}
