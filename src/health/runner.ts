/**
 * One VIP's scheduler: runs its checks, feeds the combined result to the hysteresis and
 * decides when to look again. One timer per VIP; no loops.
 *
 * Schedule:
 * - Start: the VIP is down with reason "starting". The first round runs after a small random
 *   spread (up to jitter × fast_interval, so a thousand VIPs do not fire at once), then rounds
 *   follow at fast_interval until the result settles: a healthy service is up after about
 *   (rise - 1) × fast_interval. A failing first round settles at once (down) and the VIP moves
 *   to the normal interval.
 * - Steady state: a round every `interval`, jittered by ±jitter.
 * - While a streak toward a flip is under way: a round every fast_interval (jitter only adds
 *   to it, never subtracts, so the hysteresis bound below is exact).
 *
 * A round runs all checks of the VIP concurrently, each with its own timeout, and evaluates
 * once they have all answered. Rounds never overlap, so a check never overlaps itself. A
 * check whose promise does not settle even after its timeout and abort is reported down
 * ("STUCK") on later rounds without being started again, and makes `progressing()` false so
 * the engine's liveness (lastRoundAt, /healthz) shows it.
 *
 * Passive events (issue 7): a connection closing or a watched process exiting re-runs the
 * affected checks at once (after PASSIVE_SETTLE_MS, detector 'passive'); rounds then
 * continue at fast_interval until
 * rise/fall settles. Hysteresis stays honest:
 * - every evaluation that counts toward a flip is at least fast_interval after the previous
 *   one, and the first one after a flip is at least fast_interval after it; so two flips are
 *   always at least min(rise, fall) × fast_interval apart, whatever the target does;
 * - passive runs of one check are at most one per fast_interval (a server that closes idle
 *   connections cannot make us spin).
 * The detector reported for a transition is the one that started the streak leading to it.
 */
import type { VipConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { CheckerFactory } from './checks/index.js';
import { down, errorMessage, type Checker, type Outcome, type RunningCheck } from './checks/types.js';
import { clockTimers, timerSource, type Clock, type Rearmable, type TimerSource } from './clock.js';
import { initialState, isPending, meets, step, type HysteresisState } from './hysteresis.js';
import type { CheckResult, CheckSpec, Detector, VipHealth } from './types.js';

/** How long a check may take to settle after its timeout's abort before we stop waiting. */
const ABORT_GRACE_MS = 250;
/**
 * Delay between a passive event and its check. A dying process closes its sockets one by
 * one: the first FIN can arrive while its listening socket still accepts for a moment, and a
 * check at that very instant would pass. A few milliseconds let the teardown finish.
 */
export const PASSIVE_SETTLE_MS = 10;

type TimerKind = 'round' | 'passive' | 'deadline';

export interface RunnerDeps {
  clock: Clock;
  /** Timers for periodic rounds and deadlines: the clock itself, or CoarseTimers over it (see coarse-timers.ts). */
  roundTimers?: Clock | (Clock & TimerSource);
  logger: Logger;
  random: () => number;
  createChecker: CheckerFactory;
  onCheckResult?: (vip: string, check: string, result: CheckResult) => void;
  onTransition: (health: VipHealth) => void;
  /** The health of the runner this one replaces (a reload changed the VIP's checks). */
  carried?: CarriedHealth;
}

/** What a replaced runner hands on: the VIP's health and since when, not its check results. */
export interface CarriedHealth {
  healthy: boolean;
  since: number;
  detector: Detector;
}

interface Slot {
  spec: CheckSpec;
  checker: Checker;
  last?: CheckResult & { at: number };
  /** Set while the check's run is unsettled (even past the timeout and grace). */
  inflight?: Run;
  lastPassiveAt: number;
  unwatch?: () => void;
}

/** One run of one check. */
interface Run {
  since: number;
  deadline: number;
  /** +Infinity until cancelled; then the time by which it must have settled. */
  graceUntil: number;
  handle: RunningCheck | undefined;
  /** The open round still waits for this run's result. */
  counted: boolean;
  settled: boolean;
}

interface Round {
  detector: Detector;
  /** Runs the round still waits for. */
  outstanding: number;
  /** stop() waiting for the round to end. */
  waiters: Array<() => void> | undefined;
}

export class VipRunner {
  #vip: VipConfig;
  readonly #deps: RunnerDeps;
  readonly #slots: Slot[];
  /** Every slot's index: what a periodic round runs. */
  readonly #every: readonly number[];
  #state: HysteresisState = initialState;
  #since: number;
  #lastDetector: Detector = 'initial';
  /** The detector that started the current streak (or 'initial' before the first settle). */
  #chain: Detector = 'initial';
  /** The armed one of the two timers below, if any. */
  #timer: Rearmable | undefined;
  /** Rounds and deadlines: on the round grid. Made once, re-armed per round (no garbage per check). */
  readonly #roundTimer: Rearmable;
  /** Passive re-checks: the exact clock. */
  readonly #passiveTimer: Rearmable;
  #timerKind: TimerKind = 'round';
  #dueAt = 0;
  #round: Round | undefined;
  readonly #passive = new Set<number>();
  #lastRoundStart = Number.NEGATIVE_INFINITY;
  #lastTransitionAt = Number.NEGATIVE_INFINITY;
  #lastCompletedAt: number;
  #stopped = false;

  constructor(vip: VipConfig, deps: RunnerDeps) {
    this.#vip = vip;
    this.#deps = deps;
    this.#since = deps.carried?.since ?? deps.clock.now();
    this.#lastCompletedAt = deps.clock.now();
    if (deps.carried) {
      // Still "starting" (first round at once, fast_interval while it settles), from the
      // carried health: the new checks must fail `fall` times to bring an up VIP down.
      this.#state = { healthy: deps.carried.healthy, successes: 0, failures: 0, starting: true };
      this.#lastDetector = deps.carried.detector;
    }
    const fire = (): void => this.#fire();
    this.#roundTimer = timerSource(deps.roundTimers ?? deps.clock).timer(fire);
    this.#passiveTimer = clockTimers(deps.clock).timer(fire);
    this.#slots = vip.checks.map((spec) => ({ spec, checker: deps.createChecker(spec, this.#timeoutOf(spec)), lastPassiveAt: Number.NEGATIVE_INFINITY }));
    this.#every = this.#slots.map((_, i) => i);
  }

  /** For the runner that replaces this one on a reload (see HealthEngine.update). */
  carriedOver(): CarriedHealth {
    return { healthy: this.#state.healthy, since: this.#since, detector: this.#lastDetector };
  }

  get name(): string {
    return this.#vip.name;
  }

  get vip(): VipConfig {
    return this.#vip;
  }

  start(): void {
    this.#slots.forEach((slot, i) => {
      if (!wantsPassive(slot.spec) || !slot.checker.watch) return;
      slot.unwatch = slot.checker.watch((why) => this.#onPassive(i, why));
    });
    const policy = this.#vip.policy;
    this.#arm(this.#deps.random() * policy.jitter * policy.fastIntervalMs, 'round');
  }

  /** Same checks and require, new VIP object (policy or other fields may differ): keep state. */
  replaceConfig(vip: VipConfig): void {
    const policyChanged = JSON.stringify(vip.policy) !== JSON.stringify(this.#vip.policy);
    this.#vip = vip;
    if (!policyChanged || this.#round || this.#stopped || this.#timerKind !== 'round') return;
    // Re-arm with the new timing if that is sooner than what is pending.
    const now = this.#deps.clock.now();
    const delay = this.#nextDelay(isPending(this.#state), now);
    if (now + delay < this.#dueAt) this.#arm(delay, 'round');
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearTimer();
    for (const slot of this.#slots) slot.unwatch?.();
    const now = this.#deps.clock.now();
    const round = this.#round;
    const ended = round ? new Promise<void>((resolve) => (round.waiters ??= []).push(resolve)) : undefined;
    for (const slot of this.#slots) {
      const run = slot.inflight;
      if (run && run.graceUntil === Number.POSITIVE_INFINITY) this.#cancel(run, now);
    }
    // Checks that do not settle when cancelled are given up after the grace, as at a timeout.
    if (this.#round) this.#armDeadline();
    await ended;
    for (const slot of this.#slots) slot.checker.dispose?.();
  }

  /** When this VIP's last round ended (its start, before the first one). */
  get lastCompletedAt(): number {
    return this.#lastCompletedAt;
  }

  /**
   * Why this VIP's work is late, or undefined: no round completed for `intervals` of its
   * intervals (a hung health loop or a blocked event loop), or a check still unsettled well past
   * its timeout (a checker that ignores its abort).
   */
  late(now: number, intervals: number): string | undefined {
    for (const slot of this.#slots) {
      const run = slot.inflight;
      if (run && now > run.deadline + this.#graceOf(slot.spec)) return `check ${slot.spec.label} still running ${now - run.since} ms after it started (timeout ${this.#timeoutOf(slot.spec)} ms)`;
    }
    const limit = intervals * this.#vip.policy.intervalMs;
    const age = now - this.#lastCompletedAt;
    return age > limit ? `no round completed for ${age} ms (limit ${intervals} intervals, ${limit} ms)` : undefined;
  }

  health(): VipHealth {
    return {
      name: this.#vip.name,
      healthy: this.#state.healthy,
      reason: this.#reason(),
      since: new Date(this.#since),
      lastDetector: this.#lastDetector,
      checks: this.#slots.map((s) => ({
        label: s.spec.label,
        type: s.spec.type,
        ok: s.last?.ok,
        reason: s.last?.reason ?? 'not run yet',
        durationMs: s.last?.durationMs ?? 0,
        ...(s.last ? { at: new Date(s.last.at) } : {}),
        ...(s.last?.code ? { code: s.last.code } : {}),
      })),
    };
  }

  // --- scheduling -------------------------------------------------------------------------

  /**
   * The one timer: the next round or passive re-check between rounds, the deadline or end of
   * grace during one. Rounds and deadlines use the round timers (a coarse grid: at most one
   * quantum late, never early); passive re-checks the exact clock.
   */
  #arm(delayMs: number, kind: TimerKind): void {
    this.#clearTimer();
    if (this.#stopped && kind !== 'deadline') return;
    const delay = Math.max(0, delayMs);
    this.#timerKind = kind;
    this.#dueAt = this.#deps.clock.now() + delay;
    this.#timer = kind === 'passive' ? this.#passiveTimer : this.#roundTimer;
    this.#timer.arm(delay);
  }

  #clearTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#timerKind === 'deadline') this.#onDeadline();
    else if (this.#timerKind === 'passive' && this.#passive.size > 0) this.#startRound('passive', [...this.#passive]);
    else this.#startRound(this.#roundDetector(), this.#every);
  }

  /** Detector for a timer round: passive if an event is waiting, else whatever began the streak. */
  #roundDetector(): Detector {
    if (this.#passive.size > 0) return 'passive';
    return isPending(this.#state) ? this.#chain : 'periodic';
  }

  #nextDelay(pending: boolean, now: number): number {
    const { intervalMs, fastIntervalMs, jitter } = this.#vip.policy;
    const r = this.#deps.random();
    const delay = pending ? fastIntervalMs * (1 + jitter * r) : intervalMs * (1 + jitter * (2 * r - 1));
    // Never evaluate sooner than fast_interval after a flip (the anti-flap bound).
    return Math.max(delay, this.#lastTransitionAt + fastIntervalMs - now);
  }

  #onPassive(index: number, why: string): void {
    if (this.#stopped) return;
    const slot = this.#slots[index];
    this.#deps.logger.debug({ vip: this.#vip.name, check: slot?.spec.label, why }, 'passive event');
    this.#passive.add(index);
    // During a round the event is handled when it ends (the round may predate the event).
    if (!this.#round) this.#schedulePassive();
  }

  #schedulePassive(): void {
    const now = this.#deps.clock.now();
    const at = this.#passiveAllowedAt(now);
    // If the regular round comes first, it runs every check, the waiting ones included.
    if (this.#timer === undefined || at < this.#dueAt) this.#arm(at - now, 'passive');
  }

  #passiveAllowedAt(now: number): number {
    const fast = this.#vip.policy.fastIntervalMs;
    const streak = isPending(this.#state) && !this.#state.starting;
    let at = Math.max(now + PASSIVE_SETTLE_MS, streak ? this.#lastRoundStart + fast : this.#lastTransitionAt + fast);
    for (const i of this.#passive) at = Math.max(at, (this.#slots[i]?.lastPassiveAt ?? 0) + fast);
    return at;
  }

  // --- rounds -----------------------------------------------------------------------------
  //
  // A round is callbacks, not promises: each check is started with Checker.start() (or run()
  // through an adapter) and reports once; the runner's one timer serves the round's deadline
  // and abort grace while a round is open, and the next round once it is closed. At 1,000
  // checks a second, the AbortController, promise chain and timeout timer per check this
  // replaces were a large part of the cost (docs/perf-health.md).

  #startRound(detector: Detector, indices: readonly number[]): void {
    if (this.#stopped) return;
    const now = this.#deps.clock.now();
    this.#lastRoundStart = now;
    for (const i of indices) {
      this.#passive.delete(i);
      const slot = this.#slots[i];
      if (slot && detector === 'passive') slot.lastPassiveAt = now;
    }
    // One extra count while starting, so checks that answer synchronously cannot end the
    // round before every check of it has started.
    const round: Round = { detector, outstanding: indices.length + 1, waiters: undefined };
    this.#round = round;
    for (const i of indices) {
      const slot = this.#slots[i];
      if (slot) this.#startSlot(round, slot, now);
      else this.#settleOne(round);
    }
    this.#settleOne(round);
    if (this.#round === round) this.#armDeadline();
  }

  #startSlot(round: Round, slot: Slot, started: number): void {
    if (slot.inflight) {
      this.#record(round, slot, started, down('STUCK', `previous run has not finished after ${started - slot.inflight.since} ms (timeout ${this.#timeoutOf(slot.spec)} ms)`));
      return;
    }
    const timeoutMs = this.#timeoutOf(slot.spec);
    const run: Run = { since: started, deadline: started + timeoutMs, graceUntil: Number.POSITIVE_INFINITY, handle: undefined, counted: true, settled: false };
    slot.inflight = run;
    const done = (outcome: Outcome): void => this.#finished(round, slot, run, outcome);
    run.handle = startCheck(slot.checker, done, timeoutMs);
  }

  /** A check answered (its own outcome, in time or late). */
  #finished(round: Round, slot: Slot, run: Run, outcome: Outcome): void {
    if (run.settled) return;
    run.settled = true;
    if (slot.inflight === run) slot.inflight = undefined;
    if (!run.counted) return; // the round already recorded a timeout for it
    run.counted = false;
    this.#record(round, slot, run.since, outcome);
  }

  #record(round: Round, slot: Slot, started: number, outcome: Outcome): void {
    if (!this.#stopped) {
      const now = this.#deps.clock.now();
      const result: CheckResult & { at: number } = { ok: outcome.ok, reason: outcome.reason, code: outcome.code, durationMs: now - started, detector: round.detector, at: now };
      slot.last = result;
      this.#report(slot, result);
    }
    this.#settleOne(round);
  }

  #settleOne(round: Round): void {
    if (--round.outstanding > 0 || this.#round !== round) return;
    this.#round = undefined;
    this.#lastCompletedAt = this.#deps.clock.now();
    this.#clearTimer();
    if (round.waiters) for (const wake of round.waiters) wake();
    if (this.#stopped) return;
    const pending = this.#evaluate(round.detector);
    if (this.#passive.size > 0) this.#schedulePassive();
    else this.#arm(this.#nextDelay(pending, this.#deps.clock.now()), 'round');
  }

  /** Arm the timer for the open round's next deadline or end of grace. */
  #armDeadline(): void {
    let at = Number.POSITIVE_INFINITY;
    for (const slot of this.#slots) {
      const run = slot.inflight;
      if (run?.counted) at = Math.min(at, run.graceUntil === Number.POSITIVE_INFINITY ? run.deadline : run.graceUntil);
    }
    if (at !== Number.POSITIVE_INFINITY) this.#arm(at - this.#deps.clock.now(), 'deadline');
  }

  /**
   * At a check's timeout it is cancelled (sockets closed, process group killed) and gets
   * ABORT_GRACE_MS to settle with its own, more precise reason; after that the round records
   * a timeout without it, and the run, while it stays unsettled, makes later rounds report
   * STUCK instead of starting it again.
   */
  #onDeadline(): void {
    const round = this.#round;
    if (!round) return;
    const now = this.#deps.clock.now();
    for (const slot of this.#slots) {
      const run = slot.inflight;
      if (!run?.counted) continue;
      if (run.graceUntil === Number.POSITIVE_INFINITY) {
        if (now < run.deadline) continue;
        this.#cancel(run, now);
      } else if (now >= run.graceUntil) {
        run.counted = false;
        this.#record(round, slot, run.since, down('TIMEOUT', `timeout after ${this.#timeoutOf(slot.spec)} ms (the check did not stop when aborted)`));
      }
    }
    if (this.#round === round) this.#armDeadline();
  }

  #cancel(run: Run, now: number): void {
    run.graceUntil = now + ABORT_GRACE_MS;
    try {
      run.handle?.cancel();
    } catch (err) {
      this.#deps.logger.error({ err, vip: this.#vip.name }, 'cancelling a check threw');
    }
  }

  #evaluate(detector: Detector): boolean {
    const { rise, fall } = this.#vip.policy;
    const before = this.#state;
    const streakBefore = isPending(before) && !before.starting;
    if (!streakBefore && !before.starting) this.#chain = detector;
    let passing = 0;
    for (const slot of this.#slots) if (slot.last?.ok === true) passing++;
    const combined = meets(passing, this.#slots.length, this.#vip.require);
    const r = step(before, combined, rise, fall);
    this.#state = r.state;
    if (r.transitioned) {
      const now = this.#deps.clock.now();
      this.#since = now;
      this.#lastTransitionAt = now;
      this.#lastDetector = this.#chain;
      const health = this.health();
      this.#deps.logger.info({ vip: this.#vip.name, healthy: health.healthy, reason: health.reason, detector: this.#chain }, 'vip health changed');
      this.#deps.onTransition(health);
    }
    if (!r.pending) this.#chain = 'periodic';
    return r.pending;
  }

  #report(slot: Slot, result: CheckResult): void {
    if (!this.#deps.onCheckResult) return;
    try {
      this.#deps.onCheckResult(this.#vip.name, slot.spec.label, result);
    } catch (err) {
      this.#deps.logger.error({ err, vip: this.#vip.name }, 'onCheckResult listener threw');
    }
  }

  #reason(): string {
    if (this.#state.starting) return this.#state.healthy ? 'ok, checks changed: first run pending' : 'starting';
    const failing = this.#slots.filter((s) => s.last?.ok !== true);
    const failText = failing.map((s) => `${s.spec.label}: ${s.last?.reason ?? 'not run yet'}`).join('; ');
    const { rise, fall } = this.#vip.policy;
    if (this.#state.healthy) {
      if (this.#state.failures > 0) return `ok, failing ${this.#state.failures}/${fall}: ${failText}`;
      return failing.length === 0 ? 'ok' : `ok (${this.#slots.length - failing.length}/${this.#slots.length} checks pass; ${failText})`;
    }
    if (this.#state.successes > 0) return `rising ${this.#state.successes}/${rise}`;
    return failText || 'down';
  }

  #timeoutOf(spec: CheckSpec): number {
    return spec.timeoutMs ?? this.#vip.policy.timeoutMs;
  }

  #graceOf(spec: CheckSpec): number {
    return Math.max(1_000, this.#timeoutOf(spec));
  }
}

/** Passive detection is on for tcp/http/grpc with `passive`, and for exec with a pid file or unit. */
function wantsPassive(spec: CheckSpec): boolean {
  if (spec.type === 'exec') return spec.watchPidFile !== undefined || spec.watchSystemdUnit !== undefined;
  if (spec.type === 'dns') return false;
  return spec.passive;
}

/** Start a run: Checker.start() if the checker has it, else run() with an AbortController. */
function startCheck(checker: Checker, done: (o: Outcome) => void, timeoutMs: number): RunningCheck | undefined {
  if (!checker.start) {
    const ac = new AbortController();
    void safeRun(checker, ac.signal, timeoutMs).then(done);
    return { cancel: () => ac.abort() };
  }
  try {
    return checker.start(done, timeoutMs);
  } catch (err) {
    done(down('INTERNAL', `check failed: ${errorMessage(err)}`));
    return undefined;
  }
}

/** A checker that throws or rejects yields a down result, never an unhandled rejection. */
function safeRun(checker: Checker, signal: AbortSignal, timeoutMs: number): Promise<Outcome> {
  try {
    return checker.run(signal, timeoutMs).catch((err: unknown) => down('INTERNAL', `check failed: ${errorMessage(err)}`));
  } catch (err) {
    return Promise.resolve(down('INTERNAL', `check failed: ${errorMessage(err)}`));
  }
}
