/**
 * The BGP finite state machine of RFC 4271 §8 as data: states, the events of §8.1 that apply to
 * us, and the actions the FSM asks its driver (the session) to perform. The FSM itself
 * (fsm.ts) is a pure function `(snapshot, event, context) -> (snapshot, actions)`; time comes
 * from the context, never from a global clock, so every transition is testable without a
 * network or real timers.
 *
 * Timers are kept as absolute deadlines (milliseconds on the injected clock) in the snapshot;
 * the driver sleeps until `nextDeadline(snapshot)` and then feeds a `Tick`, which the FSM turns
 * into the timer-expiry events (§8.1.3 Events 9-11, plus the IdleHoldTimer of §8.1.1).
 */

/** RFC 4271 §8.2.2 states; lower case as in /v1/peers (src/backend/types.ts PeerState). */
export type FsmState = 'idle' | 'connect' | 'active' | 'opensent' | 'openconfirm' | 'established';

/** A NOTIFICATION to send or received (RFC 4271 §4.5): code, subcode and data. */
export interface NotificationSpec {
  code: number;
  subcode: number;
  data?: Uint8Array;
}

/**
 * Events of RFC 4271 §8.1 (numbers in comments). Events that only exist with optional
 * attributes we do not implement (DelayOpen, BGP Identifier collision on Established, TCP
 * validation hooks) are left out; the session layer handles connection validation itself.
 */
export type FsmEvent =
  | { type: 'ManualStart' } // Event 1
  | { type: 'ManualStop'; notification?: NotificationSpec; reason?: string } // Event 2
  | { type: 'AutomaticStart' } // Event 3
  | { type: 'AutomaticStop'; notification?: NotificationSpec; reason?: string } // Event 8
  | { type: 'Tick' } // drives Events 9 (ConnectRetryTimer), 10 (HoldTimer), 11 (KeepaliveTimer) and the IdleHoldTimer
  | { type: 'ConnectRetryTimer_Expires' } // Event 9
  | { type: 'HoldTimer_Expires' } // Event 10
  | { type: 'KeepaliveTimer_Expires' } // Event 11
  | { type: 'IdleHoldTimer_Expires' } // Event 13
  | { type: 'Tcp_CR_Acked' } // Event 16: our outgoing connection completed
  | { type: 'TcpConnectionConfirmed' } // Event 17: an incoming connection was accepted
  | { type: 'TcpConnectionFails'; reason: string } // Event 18
  | { type: 'BGPOpen'; holdTimeSec: number } // Event 19: a valid OPEN (already checked by the session)
  | { type: 'BGPHeaderErr'; notification: NotificationSpec; reason: string } // Event 21
  | { type: 'BGPOpenMsgErr'; notification: NotificationSpec; reason: string } // Event 22
  | { type: 'OpenCollisionDump' } // Event 23
  | { type: 'NotifMsgVerErr'; reason: string } // Event 24
  | { type: 'NotifMsg'; reason: string } // Event 25
  | { type: 'KeepAliveMsg' } // Event 26
  | { type: 'UpdateMsg' } // Event 27
  | { type: 'UpdateMsgErr'; notification: NotificationSpec; reason: string }; // Event 28

export type FsmEventType = FsmEvent['type'];

/** What the driver must do, in order. */
export type FsmAction =
  | { type: 'connect' } // initiate a TCP connection to the peer
  | { type: 'disconnect' } // drop the TCP connection
  | { type: 'sendOpen' }
  | { type: 'sendKeepalive' }
  | { type: 'sendNotification'; notification: NotificationSpec }
  /** Session reached Established: send the whole Adj-RIB-Out, then End-of-RIB (RFC 4724). */
  | { type: 'established' }
  /** "Releases all BGP resources" (§8.2.2): forget what was sent to and received from the peer. */
  | { type: 'release' };

export interface FsmTimers {
  /** §8.1.2 ConnectRetryTimer deadline. */
  connectRetry?: number;
  /** §8.1.2 HoldTimer deadline. */
  hold?: number;
  /** §8.1.2 KeepaliveTimer deadline. */
  keepalive?: number;
  /** §8.1.1 IdleHoldTimer deadline: automatic restart from Idle after a failure (our backoff). */
  idleHold?: number;
}

export interface FsmSnapshot {
  state: FsmState;
  /** Clock time the current state was entered. */
  since: number;
  /** Why the last transition happened ("hold timer expired", "NOTIFICATION received: ..."). */
  reason: string;
  /** §8: attempts since the last Established; drives the exponential backoff. */
  connectRetryCounter: number;
  /** Negotiated hold time in seconds (0: no keepalives, no hold timer). */
  holdTimeSec: number;
  timers: FsmTimers;
  /** ManualStop was issued: no automatic restart. */
  stopped: boolean;
}

export interface BackoffConfig {
  /** First ConnectRetryTime / IdleHoldTime in ms. */
  baseMs: number;
  /** Upper bound of the exponential growth in ms. */
  maxMs: number;
}

export interface FsmConfig {
  /** §8.1.1 PassiveTcpEstablishment: never initiate; wait for the peer. */
  passive: boolean;
  /** Our configured hold time (seconds): 0 or 3..65535 (§4.2). */
  holdTimeSec: number;
  connectRetry: BackoffConfig;
}

export interface FsmContext {
  config: FsmConfig;
  /** Injected clock, milliseconds. */
  now: number;
  /** Injected randomness in [0, 1) for jitter. */
  random: () => number;
}

export interface FsmResult {
  next: FsmSnapshot;
  actions: FsmAction[];
}
