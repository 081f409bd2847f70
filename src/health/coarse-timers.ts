/**
 * Timers rounded up to a grid of `quantumMs`, sharing one underlying timer per grid slot.
 *
 * Why: a thousand VIPs at a 1 s interval with jitter each want their own instant, so the
 * event loop wakes about a thousand times a second for one check each; every wake-up costs a
 * trip through epoll and the timer machinery, as much again as the check's own socket write.
 * Rounding each periodic round up to a 10 ms grid starts the checks of a slot together: one
 * wake-up for a hundred-odd a second, and their responses tend to arrive in the same poll too
 * (measured in docs/perf-health.md).
 *
 * Rounding is always up, never down: a round never runs sooner than asked, so the schedule's
 * anti-flap bound (nothing sooner than fast_interval) still holds; it may run up to one quantum
 * later. Only periodic rounds use this; passive re-checks keep the exact clock.
 */
import type { Clock, TimerHandle } from './clock.js';

interface Entry {
  fn: () => void;
  slot: number;
  /** Cleared, or already fired: never fire (again), never count. */
  spent: boolean;
}

interface Slot {
  /**
   * An array, not a Set: a slot takes ~10 entries a second per 1,000 checks and most are
   * cleared before they fire (a check's deadline), so clearing only marks the entry; the
   * array goes when the slot fires. Set insertions and rehashes showed in the profile.
   */
  entries: Entry[];
  /** Entries not cleared yet; the slot's timer is cleared when this reaches 0. */
  live: number;
  timer: TimerHandle;
}

export class CoarseTimers implements Clock {
  readonly #clock: Clock;
  readonly #quantum: number;
  readonly #slots = new Map<number, Slot>();

  constructor(clock: Clock, quantumMs: number) {
    this.#clock = clock;
    this.#quantum = Math.max(1, quantumMs);
  }

  now(): number {
    return this.#clock.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const now = this.#clock.now();
    const slotAt = Math.ceil((now + Math.max(0, ms)) / this.#quantum) * this.#quantum;
    const entry: Entry = { fn, slot: slotAt, spent: false };
    let slot = this.#slots.get(slotAt);
    if (!slot) {
      slot = { entries: [], live: 0, timer: this.#clock.setTimeout(() => this.#fire(slotAt), slotAt - now) };
      this.#slots.set(slotAt, slot);
    }
    slot.entries.push(entry);
    slot.live++;
    return entry;
  }

  clearTimeout(handle: TimerHandle): void {
    const entry = handle as Entry;
    if (entry.spent) return;
    entry.spent = true;
    const slot = this.#slots.get(entry.slot);
    if (!slot || --slot.live > 0) return;
    this.#clock.clearTimeout(slot.timer);
    this.#slots.delete(entry.slot);
  }

  /** Pending timers (tests). */
  get size(): number {
    let n = 0;
    for (const slot of this.#slots.values()) n += slot.live;
    return n;
  }

  #fire(slotAt: number): void {
    const slot = this.#slots.get(slotAt);
    this.#slots.delete(slotAt);
    if (!slot) return;
    // Entries added to this slot while it fires (a zero delay at the grid point itself) go to
    // a new slot: the map entry is already gone.
    for (const entry of slot.entries) {
      if (entry.spent) continue;
      entry.spent = true;
      entry.fn();
    }
  }
}
