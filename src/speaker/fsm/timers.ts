/** Timer arithmetic for the FSM: backoff with jitter, hold time negotiation, keepalive interval. */
import type { BackoffConfig, FsmTimers } from './types.js';

/**
 * RFC 4271 §8.2.2 OpenSent: "sets the HoldTimer to a large value ... A HoldTimer value of 4
 * minutes is suggested" while we wait for the peer's OPEN.
 */
export const LARGE_HOLD_TIME_SEC = 240;

/** RFC 4271 §10 suggests 120 s; a VIP speaker wants its routes back sooner, backoff does the rest. */
export const DEFAULT_CONNECT_RETRY: BackoffConfig = { baseMs: 1_000, maxMs: 60_000 };

/**
 * ConnectRetryTime (and IdleHoldTime) after `attempts` failures: exponential growth from
 * `baseMs`, capped at `maxMs`, multiplied by a jitter factor uniform in [0.75, 1.0) as RFC 4271
 * §10 asks for ConnectRetryTimer, so that peers restarted together do not reconnect in lockstep.
 */
export function backoffMs(attempts: number, cfg: BackoffConfig, random: () => number): number {
  const exp = Math.min(Math.max(attempts, 0), 30);
  const base = Math.min(cfg.maxMs, cfg.baseMs * 2 ** exp);
  return Math.floor(base * (0.75 + 0.25 * random()));
}

/**
 * RFC 4271 §4.2: "the smaller of its configured Hold Time and the Hold Time received in the
 * OPEN message"; 0 means no keepalives and no hold timer. (Peer values 1 and 2 are rejected
 * before this by the OPEN checks with Unacceptable Hold Time.)
 */
export function negotiateHoldTime(ours: number, theirs: number): number {
  return Math.min(ours, theirs);
}

/** RFC 4271 §4.4 / §10: KEEPALIVE every third of the hold time (0: never). */
export function keepaliveMs(holdTimeSec: number): number {
  return holdTimeSec === 0 ? 0 : Math.floor((holdTimeSec * 1000) / 3);
}

/** Earliest pending deadline, for the driver's single wake-up timer. */
export function nextDeadline(timers: FsmTimers): number | undefined {
  const all = [timers.connectRetry, timers.hold, timers.keepalive, timers.idleHold].filter((t): t is number => t !== undefined);
  return all.length === 0 ? undefined : Math.min(...all);
}
