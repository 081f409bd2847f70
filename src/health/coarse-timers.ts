/**
 * Timers rounded up to a grid of `quantumMs`, all driven by one underlying timer.
 *
 * Why a grid: a thousand VIPs at a 1 s interval with jitter each want their own instant, so the
 * event loop would wake about a thousand times a second for one check each; every wake-up costs
 * a trip through epoll and the timer machinery, as much again as the check's own socket write.
 * Rounding each periodic round up to a 10 ms grid starts the checks of a slot together: one
 * wake-up for a hundred-odd a second, and their responses tend to arrive in the same poll too
 * (measured in docs/perf-health.md).
 *
 * Why one underlying timer and reusable entries: a runner re-arms its timer twice per check (the
 * round's deadline, then the next round). With a clock timer per grid slot and a handle per arm,
 * that was a Node timer list, a slot object and an entry per check, most of the scheduler's
 * garbage; deadline slots were nearly all created only to be cleared. Here a slot is a bucket
 * holding an intrusive list of `GridTimer`s (made once per runner, linked and unlinked without
 * allocating), and the one clock timer is set for the earliest bucket.
 *
 * Rounding is always up, never down: a timer never fires sooner than asked, so the schedule's
 * anti-flap bound (nothing sooner than fast_interval) still holds; it may fire up to one quantum
 * later. Only periodic rounds and deadlines use this; passive re-checks keep the exact clock.
 */
import type { Clock, Rearmable, TimerHandle, TimerSource } from './clock.js';

interface Bucket {
  at: number;
  head: GridTimer | undefined;
  tail: GridTimer | undefined;
  count: number;
}

class GridTimer implements Rearmable {
  readonly fn: () => void;
  readonly #owner: CoarseTimers;
  bucket: Bucket | undefined = undefined;
  prev: GridTimer | undefined = undefined;
  next: GridTimer | undefined = undefined;

  constructor(owner: CoarseTimers, fn: () => void) {
    this.#owner = owner;
    this.fn = fn;
  }

  arm(ms: number): void {
    this.#owner.arm(this, ms);
  }

  cancel(): void {
    this.#owner.cancel(this);
  }
}

export class CoarseTimers implements Clock, TimerSource {
  readonly #clock: Clock;
  readonly #quantum: number;
  readonly #buckets = new Map<number, Bucket>();
  /** The buckets' grid points, ascending (a few hundred at most at 1,000 VIPs). */
  readonly #order: number[] = [];
  /** The grid point the clock timer is set for (+Infinity: none). */
  #wakeAt = Number.POSITIVE_INFINITY;
  #wake: TimerHandle | undefined;
  /** Set while due timers run: arming then only files the timer; the wake-up is set after. */
  #firing = false;
  readonly #onWake = (): void => this.#fire();

  constructor(clock: Clock, quantumMs: number) {
    this.#clock = clock;
    this.#quantum = Math.max(1, quantumMs);
  }

  now(): number {
    return this.#clock.now();
  }

  timer(fn: () => void): Rearmable {
    return new GridTimer(this, fn);
  }

  /** One-shot form (Clock): a timer of its own per call. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = new GridTimer(this, fn);
    this.arm(timer, ms);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    if (handle instanceof GridTimer) this.cancel(handle);
  }

  /** Armed timers (tests). */
  get size(): number {
    let n = 0;
    for (const bucket of this.#buckets.values()) n += bucket.count;
    return n;
  }

  arm(timer: GridTimer, ms: number): void {
    this.cancel(timer);
    const now = this.#clock.now();
    const at = Math.ceil((now + Math.max(0, ms)) / this.#quantum) * this.#quantum;
    let bucket = this.#buckets.get(at);
    if (!bucket) {
      bucket = { at, head: undefined, tail: undefined, count: 0 };
      this.#buckets.set(at, bucket);
      insertSorted(this.#order, at);
    }
    link(bucket, timer);
    if (!this.#firing && at < this.#wakeAt) this.#schedule(at, now);
  }

  /**
   * Unlink; an emptied bucket goes. The clock timer stays set even if that bucket was the one
   * it waits for: it then wakes for nothing and moves on, cheaper than re-setting it on every
   * cancel (most deadlines are cancelled).
   */
  cancel(timer: GridTimer): void {
    const bucket = timer.bucket;
    if (!bucket) return;
    unlink(bucket, timer);
    if (bucket.count === 0 && this.#buckets.get(bucket.at) === bucket) this.#drop(bucket.at);
  }

  #drop(at: number): void {
    this.#buckets.delete(at);
    removeSorted(this.#order, at);
  }

  #schedule(at: number, now: number): void {
    if (this.#wake !== undefined) this.#clock.clearTimeout(this.#wake);
    this.#wakeAt = at;
    this.#wake = this.#clock.setTimeout(this.#onWake, Math.max(0, at - now));
  }

  /**
   * Fire every bucket due by the grid point the clock timer was set for (or by now, if later:
   * the timer itself is never early, so a wall clock a hair behind it must not hold buckets
   * back), in grid order, each timer in the order it was armed.
   */
  #fire(): void {
    const upTo = Math.max(this.#wakeAt, this.#clock.now());
    this.#wake = undefined;
    this.#wakeAt = Number.POSITIVE_INFINITY;
    // Due buckets are detached before any fires: a timer armed meanwhile goes to a new bucket
    // and waits for the next wake-up, even for a grid point that is already due.
    const due: Bucket[] = [];
    while (this.#order.length > 0 && this.#order[0]! <= upTo) {
      const bucket = this.#buckets.get(this.#order[0]!)!;
      this.#drop(bucket.at);
      due.push(bucket);
    }
    this.#firing = true;
    try {
      for (const bucket of due) {
        for (let timer = bucket.head; timer; timer = bucket.head) {
          unlink(bucket, timer);
          timer.fn();
        }
      }
    } finally {
      this.#firing = false;
      const next = this.#order[0];
      if (next !== undefined) this.#schedule(next, this.#clock.now());
    }
  }
}

/** Insert into an ascending array without allocating (new grid points are mostly the latest). */
function insertSorted(order: number[], at: number): void {
  let i = order.length;
  order.push(at);
  while (i > 0 && order[i - 1]! > at) {
    order[i] = order[i - 1]!;
    i--;
  }
  order[i] = at;
}

function removeSorted(order: number[], at: number): void {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (order[mid]! < at) lo = mid + 1;
    else hi = mid;
  }
  if (order[lo] !== at) return;
  // By hand: Array.prototype.copyWithin allocated on every call in the profile.
  for (let i = lo + 1; i < order.length; i++) order[i - 1] = order[i]!;
  order.length--;
}

function link(bucket: Bucket, timer: GridTimer): void {
  timer.bucket = bucket;
  timer.prev = bucket.tail;
  timer.next = undefined;
  if (bucket.tail) bucket.tail.next = timer;
  else bucket.head = timer;
  bucket.tail = timer;
  bucket.count++;
}

function unlink(bucket: Bucket, timer: GridTimer): void {
  if (timer.prev) timer.prev.next = timer.next;
  else bucket.head = timer.next;
  if (timer.next) timer.next.prev = timer.prev;
  else bucket.tail = timer.prev;
  timer.bucket = undefined;
  timer.prev = undefined;
  timer.next = undefined;
  bucket.count--;
}
