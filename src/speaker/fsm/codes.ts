/**
 * The NOTIFICATIONs the FSM itself raises (RFC 4271 §8.2.2: hold timer expiry, unexpected
 * messages per RFC 6608, Cease per RFC 4486). The code catalogue is the codec's (pure like the
 * FSM: no sockets, no timers); only the builders and the RFC 6608 subcodes live here.
 */
import { CeaseSubcode, ErrorCode } from '../codec/errors.js';
import type { NotificationSpec } from './types.js';

export { CeaseSubcode, ErrorCode };

/** RFC 6608 §3: FSM Error subcodes. */
export const FsmErrorSubcode = {
  UnexpectedInOpenSent: 1,
  UnexpectedInOpenConfirm: 2,
  UnexpectedInEstablished: 3,
} as const;

export const holdTimerExpired = (): NotificationSpec => ({ code: ErrorCode.HoldTimerExpired, subcode: 0 });
export const cease = (subcode: number, data?: Uint8Array): NotificationSpec => ({ code: ErrorCode.Cease, subcode, data });
export const fsmError = (subcode: number): NotificationSpec => ({ code: ErrorCode.Fsm, subcode });
