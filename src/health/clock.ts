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
