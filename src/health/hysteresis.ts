/**
 * Pure rise/fall hysteresis over a VIP's combined check result. No timers, no I/O: the runner
 * feeds one combined result per evaluation and schedules the next one from `pending`.
 *
 * Semantics:
 * - A VIP starts down ("starting") and needs `rise` consecutive passing evaluations to go up.
 * - An up VIP needs `fall` consecutive failing evaluations to go down.
 * - A result that agrees with the current state resets the opposite counter: one good
 *   evaluation in the middle of a failure streak means the streak starts over.
 * - `pending` is true while a streak toward a flip is under way; the runner uses fast_interval
 *   then, and the normal interval once it settles (either way).
 */
import type { Requirement } from './types.js';

export interface HysteresisState {
  healthy: boolean;
  /** Consecutive passing evaluations while down. */
  successes: number;
  /** Consecutive failing evaluations while up. */
  failures: number;
  /** True until the first evaluation: the runner uses fast_interval so a VIP comes up quickly. */
  starting: boolean;
}

export interface StepResult {
  state: HysteresisState;
  transitioned: boolean;
  /** A streak toward a flip is under way (check again at fast_interval). */
  pending: boolean;
}

export const initialState: HysteresisState = Object.freeze({ healthy: false, successes: 0, failures: 0, starting: true });

// States are values, never mutated: the settled ones (nearly every step of a steady VIP) are
// shared constants, so a step allocates nothing unless a streak is under way.
const UP: HysteresisState = Object.freeze({ healthy: true, successes: 0, failures: 0, starting: false });
const DOWN: HysteresisState = Object.freeze({ healthy: false, successes: 0, failures: 0, starting: false });
const STAYED_UP: StepResult = Object.freeze({ state: UP, transitioned: false, pending: false });
const STAYED_DOWN: StepResult = Object.freeze({ state: DOWN, transitioned: false, pending: false });
const WENT_UP: StepResult = Object.freeze({ state: UP, transitioned: true, pending: false });
const WENT_DOWN: StepResult = Object.freeze({ state: DOWN, transitioned: true, pending: false });

export function step(state: HysteresisState, ok: boolean, rise: number, fall: number): StepResult {
  if (state.healthy) {
    if (ok) return STAYED_UP;
    const failures = state.failures + 1;
    if (failures >= fall) return WENT_DOWN;
    return { state: { healthy: true, successes: 0, failures, starting: false }, transitioned: false, pending: true };
  }
  if (!ok) return STAYED_DOWN;
  const successes = state.successes + 1;
  if (successes >= rise) return WENT_UP;
  return { state: { healthy: false, successes, failures: 0, starting: false }, transitioned: false, pending: true };
}

/** Whether a streak is under way in `state` (or the VIP has not been evaluated yet). */
export function isPending(state: HysteresisState): boolean {
  return state.starting || (state.healthy ? state.failures > 0 : state.successes > 0);
}

/**
 * Combine per-check results under `require`. A check that has no result yet counts as failing:
 * a VIP is never advertised on the strength of checks that did not run.
 */
export function combine(results: ReadonlyArray<boolean | undefined>, require: Requirement): boolean {
  let passing = 0;
  for (const r of results) if (r === true) passing++;
  return meets(passing, results.length, require);
}

/** `passing` of `total` checks pass: enough under `require`? (combine() without an array.) */
export function meets(passing: number, total: number, require: Requirement): boolean {
  if (require === 'all') return passing === total && total > 0;
  if (require === 'any') return passing >= 1;
  return passing >= require;
}
