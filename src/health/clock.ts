/**
 * The engine's only source of time. Injected so rise/fall, fast_interval and jitter can be
 * tested with a fake clock; production uses the process clock.
 */
/** Opaque: whatever the clock's setTimeout returns. */
export type TimerHandle = object | number;

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout | number),
};

/**
 * A timer made once and armed again and again: a VIP runner re-arms its timer twice per check
 * (the round's deadline, then the next round), so at 1,000 checks a second a fresh handle and
 * closure per arm was most of the scheduler's garbage (docs/perf-health.md).
 */
export interface Rearmable {
  /** Fire once, `ms` from now; replaces whatever was armed. */
  arm(ms: number): void;
  /** Disarm; a no-op when not armed. */
  cancel(): void;
}

export interface TimerSource {
  now(): number;
  /** A reusable timer that calls `fn` each time it fires. */
  timer(fn: () => void): Rearmable;
}

/** TimerSource over a plain Clock: exact times, one clock timer per arm. */
export function clockTimers(clock: Clock): TimerSource {
  return { now: () => clock.now(), timer: (fn) => new ClockTimer(clock, fn) };
}

/** A Clock that already is a TimerSource (the coarse grid) is used as such. */
export function timerSource(clock: Clock | (Clock & TimerSource)): TimerSource {
  return 'timer' in clock ? clock : clockTimers(clock);
}

class ClockTimer implements Rearmable {
  readonly #clock: Clock;
  readonly #fire: () => void;
  #handle: TimerHandle | undefined;

  constructor(clock: Clock, fn: () => void) {
    this.#clock = clock;
    this.#fire = () => {
      this.#handle = undefined;
      fn();
    };
  }

  arm(ms: number): void {
    this.cancel();
    this.#handle = this.#clock.setTimeout(this.#fire, ms);
  }

  cancel(): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}
