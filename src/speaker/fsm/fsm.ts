/**
 * RFC 4271 §8.2.2 finite state machine, one function per state (as corebgp does), each branch
 * quoting the paragraph it implements. Pure: `step(snapshot, event, ctx)` returns the next
 * snapshot and the actions for the driver; the clock and randomness come from `ctx`.
 *
 * Optional session attributes (§8.1.1) in effect: AllowAutomaticStart and AllowAutomaticStop
 * (true), DampPeerOscillations (true: the IdleHoldTimer holds Idle for an exponential backoff
 * with jitter after each failure), PassiveTcpEstablishment per neighbor, DelayOpen (false),
 * CollisionDetectEstablishedState (false: a collision with an Established session always keeps
 * the Established one, §6.8), SendNOTIFICATIONwithoutOPEN (false).
 *
 * Deliberate deviations, each marked "Deviation" below:
 * - a passive neighbor never initiates: Active keeps no ConnectRetryTimer;
 * - a NOTIFICATION received in OpenSent closes without answering it with an FSM Error (§6.4:
 *   the sender closes the connection right after sending, so an answer only produces an EPIPE);
 * - a header error in Established sends the header error itself (§6.1) rather than FSM Error;
 * - ConnectRetryTimer expiry in Connect counts as a failed attempt, so retries back off.
 */
import { CeaseSubcode, FsmErrorSubcode, cease, fsmError, holdTimerExpired } from './codes.js';
import { LARGE_HOLD_TIME_SEC, backoffMs, keepaliveMs, negotiateHoldTime } from './timers.js';
import type { FsmAction, FsmContext, FsmEvent, FsmResult, FsmSnapshot, FsmState, FsmTimers, NotificationSpec } from './types.js';

/** The snapshot of a speaker that has not been started (§8.2.2: "Initially, the BGP peer FSM is in the Idle state"). */
export function initialSnapshot(now: number): FsmSnapshot {
  return { state: 'idle', since: now, reason: 'not started', connectRetryCounter: 0, holdTimeSec: 0, timers: {}, stopped: true };
}

/** Apply one event. */
export function step(s: FsmSnapshot, ev: FsmEvent, ctx: FsmContext): FsmResult {
  if (ev.type === 'Tick') return tick(s, ctx);
  switch (s.state) {
    case 'idle':
      return idle(s, ev, ctx);
    case 'connect':
      return connect(s, ev, ctx);
    case 'active':
      return active(s, ev, ctx);
    case 'opensent':
      return openSent(s, ev, ctx);
    case 'openconfirm':
      return openConfirm(s, ev, ctx);
    case 'established':
      return established(s, ev, ctx);
  }
}

const TIMER_EVENTS: Array<[keyof FsmTimers, FsmEvent]> = [
  ['idleHold', { type: 'IdleHoldTimer_Expires' }],
  ['connectRetry', { type: 'ConnectRetryTimer_Expires' }],
  ['hold', { type: 'HoldTimer_Expires' }],
  ['keepalive', { type: 'KeepaliveTimer_Expires' }],
];

/**
 * Turn due deadlines into timer events, earliest first. An expired timer is removed before its
 * event is handled ("the timer expires"); handlers that restart it set a fresh deadline. Bounded:
 * there are four timers and each fires at most once per tick.
 */
function tick(s: FsmSnapshot, ctx: FsmContext): FsmResult {
  let cur = s;
  const actions: FsmAction[] = [];
  for (let round = 0; round < TIMER_EVENTS.length; round++) {
    const due = TIMER_EVENTS.filter(([k]) => cur.timers[k] !== undefined && cur.timers[k] <= ctx.now).sort(
      ([a], [b]) => cur.timers[a]! - cur.timers[b]!,
    )[0];
    if (!due) break;
    const [key, event] = due;
    const timers = { ...cur.timers };
    delete timers[key];
    const r = step({ ...cur, timers }, event, ctx);
    cur = r.next;
    actions.push(...r.actions);
  }
  return { next: cur, actions };
}

// ---------------------------------------------------------------------------------------------
// Shared transitions

function move(s: FsmSnapshot, ctx: FsmContext, state: FsmState, reason: string, patch: Partial<FsmSnapshot>): FsmSnapshot {
  const changed = state !== s.state;
  return { ...s, ...patch, state, since: changed ? ctx.now : s.since, reason: changed ? reason : s.reason };
}

interface IdleOpts {
  reason: string;
  notification?: NotificationSpec;
  /** "increments the ConnectRetryCounter by 1" */
  countFailure: boolean;
  /** ManualStop: "sets the ConnectRetryCounter to zero", no automatic restart. */
  stopped?: boolean;
}

/**
 * The common way down: "sends the NOTIFICATION message ..., sets the ConnectRetryTimer to zero,
 * releases all BGP resources, drops the TCP connection, increments the ConnectRetryCounter by 1,
 * (optionally) performs peer oscillation damping, and changes its state to Idle."
 */
function toIdle(s: FsmSnapshot, ctx: FsmContext, o: IdleOpts): FsmResult {
  const actions: FsmAction[] = [];
  if (o.notification) actions.push({ type: 'sendNotification', notification: o.notification });
  actions.push({ type: 'disconnect' }, { type: 'release' });
  const stopped = o.stopped ?? false;
  const counter = stopped ? 0 : s.connectRetryCounter + (o.countFailure ? 1 : 0);
  const timers: FsmTimers = {};
  // §8.1.1 DampPeerOscillations: stay Idle for IdleHoldTime, growing with each failure.
  if (!stopped) timers.idleHold = ctx.now + backoffMs(Math.max(counter - 1, 0), ctx.config.connectRetry, ctx.random);
  const next = move(s, ctx, 'idle', o.reason, { connectRetryCounter: counter, holdTimeSec: 0, timers, stopped });
  // Re-entering Idle from Idle still records why.
  next.reason = o.reason;
  return { next, actions };
}

function connectRetryDeadline(s: FsmSnapshot, ctx: FsmContext): number {
  return ctx.now + backoffMs(s.connectRetryCounter, ctx.config.connectRetry, ctx.random);
}

/** Connect/Active on a TCP connection: "sends an OPEN message ..., sets the HoldTimer to a large value, and changes its state to OpenSent." */
function toOpenSent(s: FsmSnapshot, ctx: FsmContext, how: string): FsmResult {
  const next = move(s, ctx, 'opensent', `TCP connection ${how}, OPEN sent`, {
    timers: { hold: ctx.now + LARGE_HOLD_TIME_SEC * 1000 },
  });
  return { next, actions: [{ type: 'sendOpen' }] };
}

function restartHold(s: FsmSnapshot, ctx: FsmContext): FsmTimers {
  return s.holdTimeSec === 0 ? { ...s.timers } : { ...s.timers, hold: ctx.now + s.holdTimeSec * 1000 };
}

function keepaliveDue(s: FsmSnapshot, ctx: FsmContext): FsmResult {
  // "sends a KEEPALIVE message, and restarts its KeepaliveTimer" (OpenConfirm and Established).
  const timers = { ...s.timers };
  if (s.holdTimeSec !== 0) timers.keepalive = ctx.now + keepaliveMs(s.holdTimeSec);
  return { next: { ...s, timers }, actions: [{ type: 'sendKeepalive' }] };
}

const unchanged = (s: FsmSnapshot): FsmResult => ({ next: s, actions: [] });
const adminShutdown = (ev: { notification?: NotificationSpec }): NotificationSpec =>
  ev.notification ?? cease(CeaseSubcode.AdministrativeShutdown);

// ---------------------------------------------------------------------------------------------
// One function per state (§8.2.2)

/** §8.2.2 Idle. */
function idle(s: FsmSnapshot, ev: FsmEvent, ctx: FsmContext): FsmResult {
  switch (ev.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'IdleHoldTimer_Expires': {
      // "In response to a ManualStart event (Event 1) or an AutomaticStart event (Event 3), the
      // local system: initializes all BGP resources for the peer connection, sets
      // ConnectRetryCounter to zero [ManualStart only], starts the ConnectRetryTimer with the
      // initial value, initiates a TCP connection to the other BGP peer, listens for a connection
      // that may be initiated by the remote BGP peer, and changes its state to Connect."
      // Event 13 (IdleHoldTimer_Expires) ends the damping wait the same way (§8.1.3).
      const counter = ev.type === 'ManualStart' ? 0 : s.connectRetryCounter;
      const base = { ...s, connectRetryCounter: counter, stopped: false };
      if (ctx.config.passive) {
        // "the local system: ... listens for a connection that may be initiated by the remote peer,
        // and changes its state to Active." Deviation: no ConnectRetryTimer, a passive
        // neighbor never initiates.
        return { next: move(base, ctx, 'active', 'started, waiting for the peer to connect', { timers: {} }), actions: [] };
      }
      const next = move(base, ctx, 'connect', 'started, connecting', { timers: { connectRetry: connectRetryDeadline(base, ctx) } });
      return { next, actions: [{ type: 'connect' }] };
    }
    case 'ManualStop':
    case 'AutomaticStop':
      // "The ManualStop event (Event 2) and AutomaticStop (Event 8) event are ignored in the Idle state."
      // A ManualStop still cancels a pending automatic restart: the operator asked us to stop.
      return ev.type === 'ManualStop'
        ? { next: { ...s, timers: {}, stopped: true, connectRetryCounter: 0, reason: ev.reason ?? 'stopped' }, actions: [] }
        : unchanged(s);
    default:
      // "Any other event (Events 9-12, 15-28) received in the Idle state does not cause change in the state of the local system."
      // Incoming connections are refused by the session layer while Idle.
      return unchanged(s);
  }
}

/** §8.2.2 Connect. */
function connect(s: FsmSnapshot, ev: FsmEvent, ctx: FsmContext): FsmResult {
  switch (ev.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      // "In the Connect state, BGP FSM ignores all start events (Events 1, 3-7)."
      return unchanged(s);
    case 'ManualStop':
      // "drops the TCP connection, releases all BGP resources, sets ConnectRetryCounter to zero,
      // stops the ConnectRetryTimer and sets ConnectRetryTimer to zero, and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason ?? 'stopped', countFailure: false, stopped: true });
    case 'ConnectRetryTimer_Expires': {
      // "drops the TCP connection, restarts the ConnectRetryTimer, stops the DelayOpenTimer and
      // resets the timer to zero, initiates a TCP connection to the other BGP peer, continues to
      // listen for a connection that may be initiated by the remote BGP peer, and stays in the
      // Connect state." Deviation: counts as an attempt so that the next wait doubles.
      const counted = { ...s, connectRetryCounter: s.connectRetryCounter + 1, reason: 'connect timed out' };
      const next = { ...counted, timers: { connectRetry: connectRetryDeadline(counted, ctx) } };
      return { next, actions: [{ type: 'disconnect' }, { type: 'connect' }] };
    }
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed':
      // "If the DelayOpen attribute is set to FALSE, the local system: stops the
      // ConnectRetryTimer (if running) and sets the ConnectRetryTimer to zero, completes BGP
      // initialization, sends an OPEN message to its peer, sets the HoldTimer to a large value,
      // and changes its state to OpenSent."
      return toOpenSent(s, ctx, ev.type === 'Tcp_CR_Acked' ? 'established' : 'accepted');
    case 'TcpConnectionFails':
      // "If the DelayOpenTimer is not running, the local system: stops the ConnectRetryTimer to
      // zero, drops the TCP connection, releases all BGP resources, and changes its state to Idle."
      // The failure counts towards the backoff (DampPeerOscillations).
      return toIdle(s, ctx, { reason: ev.reason, countFailure: true });
    default:
      // "In response to any other events (Events 8, 10-11, 13, 19, 23, 25-28), the local system:
      // if the ConnectRetryTimer is running, stops and resets the ConnectRetryTimer, ... releases
      // all BGP resources, drops the TCP connection, increments the ConnectRetryCounter by 1,
      // performs peer oscillation damping if the DampPeerOscillations attribute is set to True,
      // and changes its state to Idle."
      return toIdle(s, ctx, { reason: reasonOf(ev), countFailure: true });
  }
}

/** §8.2.2 Active. */
function active(s: FsmSnapshot, ev: FsmEvent, ctx: FsmContext): FsmResult {
  switch (ev.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      // "In this state, BGP FSM ignores all start events (Events 1, 3-7)."
      return unchanged(s);
    case 'ManualStop':
      // "releases all BGP resources, ... drops the TCP connection, sets ConnectRetryCounter to
      // zero, stops the ConnectRetryTimer and sets the ConnectRetryTimer to zero, and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason ?? 'stopped', countFailure: false, stopped: true });
    case 'ConnectRetryTimer_Expires': {
      // "restarts the ConnectRetryTimer (with initial value), initiates a TCP connection to the
      // other BGP peer, continues to listen for a TCP connection that may be initiated by a
      // remote BGP peer, and changes its state to Connect."
      if (ctx.config.passive) return unchanged(s); // Deviation: passive never initiates.
      const next = move(s, ctx, 'connect', 'connect retry timer expired, connecting', {
        timers: { connectRetry: connectRetryDeadline(s, ctx) },
      });
      return { next, actions: [{ type: 'connect' }] };
    }
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed':
      // "If the DelayOpen attribute is set to FALSE, the local system: sets the ConnectRetryTimer
      // to zero, completes the BGP initialization, sends the OPEN message to its peer, sets its
      // HoldTimer to a large value, and changes its state to OpenSent."
      return toOpenSent(s, ctx, ev.type === 'Tcp_CR_Acked' ? 'established' : 'accepted');
    case 'TcpConnectionFails':
      // "restarts the ConnectRetryTimer (with the initial value), ... releases all BGP resource,
      // increments the ConnectRetryCounter by 1, optionally performs peer oscillation damping if
      // the DampPeerOscillations attribute is set to TRUE, and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason, countFailure: true });
    default:
      // "In response to any other event (Events 8, 10-11, 13, 19, 23, 25-28), the local system:
      // sets the ConnectRetryTimer to zero, releases all BGP resources, drops the TCP connection,
      // increments the ConnectRetryCounter by one, (optionally) performs peer oscillation damping
      // if the DampPeerOscillations attribute is set to TRUE, and changes its state to Idle."
      return toIdle(s, ctx, { reason: reasonOf(ev), countFailure: true });
  }
}

/** §8.2.2 OpenSent. */
function openSent(s: FsmSnapshot, ev: FsmEvent, ctx: FsmContext): FsmResult {
  switch (ev.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      // "Any start event (Events 1, 3-7) is ignored in the OpenSent state."
      return unchanged(s);
    case 'ManualStop':
      // "sends the NOTIFICATION with a Cease, sets the ConnectRetryTimer to zero, releases all BGP
      // resources, drops the TCP connection, sets the ConnectRetryCounter to zero, and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason ?? 'stopped', notification: adminShutdown(ev), countFailure: false, stopped: true });
    case 'AutomaticStop':
      // "sends the NOTIFICATION with a Cease, ... increments the ConnectRetryCounter by 1, ... changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason ?? 'stopped', notification: adminShutdown(ev), countFailure: true });
    case 'HoldTimer_Expires':
      // "sends a NOTIFICATION message with the error code Hold Timer Expired, sets the
      // ConnectRetryTimer to zero, releases all BGP resources, drops the TCP connection,
      // increments the ConnectRetryCounter, (optionally) performs peer oscillation damping ...,
      // and changes its state to Idle."
      return toIdle(s, ctx, { reason: 'hold timer expired', notification: holdTimerExpired(), countFailure: true });
    case 'TcpConnectionFails': {
      // "closes the BGP connection, restarts the ConnectRetryTimer, continues to listen for a
      // connection that may be initiated by the remote BGP peer, and changes its state to Active."
      const timers: FsmTimers = ctx.config.passive ? {} : { connectRetry: connectRetryDeadline(s, ctx) };
      return { next: move(s, ctx, 'active', ev.reason, { timers }), actions: [{ type: 'disconnect' }, { type: 'release' }] };
    }
    case 'BGPOpen': {
      // "When an OPEN message is received, all fields are checked for correctness. If there are no
      // errors in the OPEN message (Event 19), the local system: resets the DelayOpenTimer to
      // zero, sets the BGP ConnectRetryTimer to zero, sends a KEEPALIVE message, and sets a
      // KeepaliveTimer (via the text below), sets the HoldTimer according to the negotiated
      // value (see Section 4.2), changes its state to OpenConfirm."
      // "If the negotiated hold time value is zero, then the HoldTimer and KeepaliveTimer are not started."
      const holdTimeSec = negotiateHoldTime(ctx.config.holdTimeSec, ev.holdTimeSec);
      const timers: FsmTimers =
        holdTimeSec === 0 ? {} : { hold: ctx.now + holdTimeSec * 1000, keepalive: ctx.now + keepaliveMs(holdTimeSec) };
      const next = move(s, ctx, 'openconfirm', 'OPEN received', { holdTimeSec, timers });
      return { next, actions: [{ type: 'sendKeepalive' }] };
    }
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      // "sends a NOTIFICATION message with the appropriate error code, sets the ConnectRetryTimer
      // to zero, releases all BGP resources, drops the TCP connection, increments the
      // ConnectRetryCounter by 1, (optionally) performs peer oscillation damping ..., and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason, notification: ev.notification, countFailure: true });
    case 'OpenCollisionDump':
      // "sends a NOTIFICATION with a Cease, ... increments the ConnectRetryCounter by 1, ... and changes its state to Idle."
      return toIdle(s, ctx, {
        reason: 'connection collision resolution',
        notification: cease(CeaseSubcode.ConnectionCollision),
        countFailure: true,
      });
    case 'NotifMsgVerErr':
      // "sets the ConnectRetryTimer to zero, releases all BGP resources, drops the TCP connection, and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason, countFailure: false });
    case 'NotifMsg':
      // Deviation (see header): close without answering the NOTIFICATION.
      return toIdle(s, ctx, { reason: ev.reason, countFailure: true });
    default:
      // "In response to any other event (Events 9, 11-13, 20, 25-28), the local system: sends the
      // NOTIFICATION with the Error Code Finite State Machine Error, ... increments the
      // ConnectRetryCounter by 1, ... and changes its state to Idle." (RFC 6608 subcode 1.)
      return toIdle(s, ctx, {
        reason: `unexpected ${reasonOf(ev)} in OpenSent`,
        notification: fsmError(FsmErrorSubcode.UnexpectedInOpenSent),
        countFailure: true,
      });
  }
}

/** §8.2.2 OpenConfirm. */
function openConfirm(s: FsmSnapshot, ev: FsmEvent, ctx: FsmContext): FsmResult {
  switch (ev.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      // "Any start event (Events 1, 3-7) is ignored in the OpenConfirm state."
      return unchanged(s);
    case 'ManualStop':
      // "sends the NOTIFICATION message with a Cease, releases all BGP resources, drops the TCP
      // connection, sets the ConnectRetryCounter to zero, sets the ConnectRetryTimer to zero, and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason ?? 'stopped', notification: adminShutdown(ev), countFailure: false, stopped: true });
    case 'AutomaticStop':
      // "sends the NOTIFICATION message with a Cease, ... increments the ConnectRetryCounter by 1, ... changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason ?? 'stopped', notification: adminShutdown(ev), countFailure: true });
    case 'HoldTimer_Expires':
      // "sends the NOTIFICATION message with the Error Code Hold Timer Expired, ... increments the
      // ConnectRetryCounter by 1, ... and changes its state to Idle."
      return toIdle(s, ctx, { reason: 'hold timer expired', notification: holdTimerExpired(), countFailure: true });
    case 'KeepaliveTimer_Expires':
      // "sends a KEEPALIVE message, restarts the KeepaliveTimer, and remains in the OpenConfirm state."
      return keepaliveDue(s, ctx);
    case 'TcpConnectionFails':
    case 'NotifMsg':
      // "sets the ConnectRetryTimer to zero, releases all BGP resources, drops the TCP connection,
      // increments the ConnectRetryCounter by 1, ... and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason, countFailure: true });
    case 'NotifMsgVerErr':
      // "sets the ConnectRetryTimer to zero, releases all BGP resources, drops the TCP connection, and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason, countFailure: false });
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      // "sends a NOTIFICATION message with the appropriate error code, ... increments the
      // ConnectRetryCounter by 1, ... and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason, notification: ev.notification, countFailure: true });
    case 'OpenCollisionDump':
      // "sends a NOTIFICATION with a Cease, ... increments the ConnectRetryCounter by 1, ... changes its state to Idle."
      return toIdle(s, ctx, {
        reason: 'connection collision resolution',
        notification: cease(CeaseSubcode.ConnectionCollision),
        countFailure: true,
      });
    case 'KeepAliveMsg': {
      // "If the local system receives a KEEPALIVE message (KeepAliveMsg (Event 26)), the local
      // system: restarts the HoldTimer and changes its state to Established."
      // The counter restarts: the next failure waits the base time again.
      const next = move(s, ctx, 'established', 'KEEPALIVE received', { timers: restartHold(s, ctx), connectRetryCounter: 0 });
      return { next, actions: [{ type: 'established' }] };
    }
    default:
      // "In response to any other event (Events 9, 12-13, 20, 27-28), the local system: sends a
      // NOTIFICATION with a code of Finite State Machine Error, ... and changes its state to Idle."
      // A second OPEN on this connection lands here too (RFC 6608 subcode 2).
      return toIdle(s, ctx, {
        reason: `unexpected ${reasonOf(ev)} in OpenConfirm`,
        notification: fsmError(FsmErrorSubcode.UnexpectedInOpenConfirm),
        countFailure: true,
      });
  }
}

/** §8.2.2 Established. */
function established(s: FsmSnapshot, ev: FsmEvent, ctx: FsmContext): FsmResult {
  switch (ev.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      // "Any Start event (Events 1, 3-7) is ignored in the Established state."
      return unchanged(s);
    case 'ManualStop':
      // "sends the NOTIFICATION message with a Cease, sets the ConnectRetryTimer to zero, deletes
      // all routes associated with this connection, releases BGP resources, drops the TCP
      // connection, sets the ConnectRetryCounter to zero, and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason ?? 'stopped', notification: adminShutdown(ev), countFailure: false, stopped: true });
    case 'AutomaticStop':
      // "sends a NOTIFICATION with a Cease, ... increments the ConnectRetryCounter by 1, ... and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason ?? 'stopped', notification: adminShutdown(ev), countFailure: true });
    case 'HoldTimer_Expires':
      // "sends a NOTIFICATION message with the Error Code Hold Timer Expired, ... increments the
      // ConnectRetryCounter by 1, ... and changes its state to Idle."
      return toIdle(s, ctx, { reason: 'hold timer expired', notification: holdTimerExpired(), countFailure: true });
    case 'KeepaliveTimer_Expires':
      // "sends a KEEPALIVE message, and restarts its KeepaliveTimer, unless the negotiated HoldTime value is zero."
      return keepaliveDue(s, ctx);
    case 'OpenCollisionDump':
      // "If the local system receives a OpenCollisionDump event (Event 23), the local system:
      // sends a NOTIFICATION with a Cease, ... and changes its state to Idle."
      return toIdle(s, ctx, {
        reason: 'connection collision resolution',
        notification: cease(CeaseSubcode.ConnectionCollision),
        countFailure: true,
      });
    case 'NotifMsgVerErr':
    case 'NotifMsg':
    case 'TcpConnectionFails':
      // "If the local system receives a NOTIFICATION message (Event 24 or Event 25) or a
      // TcpConnectionFails (Event 18) from the underlying TCP, the local system: sets the
      // ConnectRetryTimer to zero, deletes all routes associated with this connection, releases
      // all the BGP resources, drops the TCP connection, increments the ConnectRetryCounter by 1,
      // and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason, countFailure: true });
    case 'KeepAliveMsg':
      // "restarts its HoldTimer, if the negotiated HoldTime value is non-zero, and remains in the Established state."
      return { next: { ...s, timers: restartHold(s, ctx) }, actions: [] };
    case 'UpdateMsg':
      // "processes the message, restarts its HoldTimer, if the negotiated HoldTime value is
      // non-zero, and remains in the Established state." (The session processes the message.)
      return { next: { ...s, timers: restartHold(s, ctx) }, actions: [] };
    case 'UpdateMsgErr':
      // "sends a NOTIFICATION message with an Update error, ... increments the
      // ConnectRetryCounter by 1, ... and changes its state to Idle."
      return toIdle(s, ctx, { reason: ev.reason, notification: ev.notification, countFailure: true });
    case 'BGPHeaderErr':
      // Deviation: §6.1 asks for the header error itself, more useful to the peer than FSM Error.
      return toIdle(s, ctx, { reason: ev.reason, notification: ev.notification, countFailure: true });
    default:
      // "In response to any other event (Events 9, 12-13, 20-22), the local system: deletes all
      // routes associated with this connection, sends a NOTIFICATION message with the Error Code
      // Finite State Machine Error, ... and changes its state to Idle." (RFC 6608 subcode 3.)
      return toIdle(s, ctx, {
        reason: `unexpected ${reasonOf(ev)} in Established`,
        notification: fsmError(FsmErrorSubcode.UnexpectedInEstablished),
        countFailure: true,
      });
  }
}

/** A human reason for an event that ends a session. */
function reasonOf(ev: FsmEvent): string {
  if ('reason' in ev && ev.reason) return ev.reason;
  switch (ev.type) {
    case 'HoldTimer_Expires':
      return 'hold timer expired';
    case 'BGPOpen':
      return 'OPEN message';
    case 'KeepAliveMsg':
      return 'KEEPALIVE message';
    case 'UpdateMsg':
      return 'UPDATE message';
    default:
      return ev.type;
  }
}

/**
 * §6.8 collision resolved in favour of the newer connection: RFC 4271 runs one FSM per
 * connection, and the surviving connection's FSM (which sent its OPEN when the connection was
 * accepted) replaces the dumped one. We keep a single FSM per neighbor, so it takes over the
 * survivor's position: OpenSent with the large hold time, about to process the peer's OPEN.
 */
export function adoptCollisionWinner(s: FsmSnapshot, ctx: FsmContext): FsmSnapshot {
  return {
    ...s,
    state: 'opensent',
    since: ctx.now,
    reason: 'connection collision resolution: kept the connection initiated by the peer',
    holdTimeSec: 0,
    timers: { hold: ctx.now + LARGE_HOLD_TIME_SEC * 1000 },
  };
}
