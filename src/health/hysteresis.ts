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

export const initialState: HysteresisState = { healthy: false, successes: 0, failures: 0, starting: true };

export function step(state: HysteresisState, ok: boolean, rise: number, fall: number): StepResult {
  if (state.healthy) {
    if (ok) return settle({ healthy: true, successes: 0, failures: 0, starting: false });
    const failures = state.failures + 1;
    if (failures >= fall) return { state: { healthy: false, successes: 0, failures: 0, starting: false }, transitioned: true, pending: false };
    return { state: { healthy: true, successes: 0, failures, starting: false }, transitioned: false, pending: true };
  }
  if (!ok) return settle({ healthy: false, successes: 0, failures: 0, starting: false });
  const successes = state.successes + 1;
  if (successes >= rise) return { state: { healthy: true, successes: 0, failures: 0, starting: false }, transitioned: true, pending: false };
  return { state: { healthy: false, successes, failures: 0, starting: false }, transitioned: false, pending: true };
}

function settle(state: HysteresisState): StepResult {
  return { state, transitioned: false, pending: false };
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
  const passing = results.filter((r) => r === true).length;
  if (require === 'all') return passing === results.length && results.length > 0;
  if (require === 'any') return passing >= 1;
  return passing >= require;
}
