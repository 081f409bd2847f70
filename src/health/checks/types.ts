/**
 * What every check type implements. A checker is created once per configured check and reused
 * for every run, so it can hold per-target resources (agents, resolvers, shared channels).
 */
import type { CheckCode, CheckSpec } from '../types.js';

/** The verdict of one run, before the runner adds timing and the detector. */
export interface Outcome {
  ok: boolean;
  code: CheckCode;
  reason: string;
}

/** A run started with Checker.start(). */
export interface RunningCheck {
  cancel(): void;
}

/** Called by a passive watcher when the target's connection or process went away. */
export type PassiveListener = (why: string) => void;

export interface Checker {
  readonly spec: CheckSpec;
  /**
   * Run once. `signal` aborts at the check's timeout (and on engine stop): the checker must then
   * release what it holds (close the socket, kill the process group) and settle. The runner races
   * this promise against the timeout anyway, so a checker that fails to settle yields a timeout
   * result and is reported as stuck rather than hanging the VIP.
   */
  run(signal: AbortSignal, timeoutMs: number): Promise<Outcome>;
  /**
   * Optional callback form of run() for the check types that run a thousand times a second
   * (http, tcp): no AbortController, promise or abort listener per run, which were a large
   * part of a check's CPU (docs/perf-health.md). `done` is called exactly once, possibly
   * synchronously from `cancel()`. The runner calls `cancel()` at the timeout or engine stop;
   * the checker must then release what it holds and call `done` (the runner gives it the same
   * grace as an aborted run()). The runner uses start() when present, else run().
   */
  start?(done: (outcome: Outcome) => void, timeoutMs: number): RunningCheck;
  /**
   * Event-driven detection (issue 7): call `listener` when the target's persistent connection
   * closes or its process exits. Returns the unsubscribe function. Absent when the check has no
   * passive mode (dns, or passive: false).
   */
  watch?(listener: PassiveListener): () => void;
  /** Release shared resources (agent, channel references) when the check is removed. */
  dispose?(): void;
}

/**
 * run() for a checker that implements start(): the promise-and-signal form (tests, callers other
 * than the runner) over the callback form. `aborted` is the outcome when the signal fired first.
 */
export function runViaStart(start: (done: (outcome: Outcome) => void) => RunningCheck, signal: AbortSignal, aborted: () => Outcome): Promise<Outcome> {
  if (signal.aborted) return Promise.resolve(aborted());
  return new Promise((resolve) => {
    const running = start((outcome) => {
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    });
    const onAbort = (): void => running.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function ok(reason = 'ok'): Outcome {
  return { ok: true, code: 'OK', reason };
}

export function down(code: CheckCode, reason: string): Outcome {
  return { ok: false, code, reason };
}

/** `err.code` of a Node system error, if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Map a socket-level error to a stable code: refused connects are their own class. */
export function connectCode(err: unknown): CheckCode {
  return errorCode(err) === 'ECONNREFUSED' ? 'CONNECT_REFUSED' : 'CONNECT_ERROR';
}
