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
import { down, errorMessage, type Checker, type Outcome } from './checks/types.js';
import type { Clock, TimerHandle } from './clock.js';
import { combine, initialState, isPending, step, type HysteresisState } from './hysteresis.js';
import type { CheckResult, CheckSpec, Detector, VipHealth } from './types.js';

/** How long a check may take to settle after its timeout's abort before we stop waiting. */
const ABORT_GRACE_MS = 250;
/**
 * Delay between a passive event and its check. A dying process closes its sockets one by
 * one: the first FIN can arrive while its listening socket still accepts for a moment, and a
 * check at that very instant would pass. A few milliseconds let the teardown finish.
 */
export const PASSIVE_SETTLE_MS = 10;

export interface RunnerDeps {
  clock: Clock;
  /** Timers for periodic rounds: the clock itself, or CoarseTimers over it (see coarse-timers.ts). */
  roundTimers?: Clock;
  logger: Logger;
  random: () => number;
  createChecker: CheckerFactory;
  onCheckResult?: (vip: string, check: string, result: CheckResult) => void;
  onTransition: (health: VipHealth) => void;
}

interface Slot {
  spec: CheckSpec;
  checker: Checker;
  last?: CheckResult & { at: number };
  /** Set while the checker's own promise is unsettled (even past the timeout). */
  inflight?: { since: number; deadline: number };
  lastPassiveAt: number;
  unwatch?: () => void;
}

export class VipRunner {
  #vip: VipConfig;
  readonly #deps: RunnerDeps;
  readonly #slots: Slot[];
  #state: HysteresisState = initialState;
  #since: number;
  #lastDetector: Detector = 'initial';
  /** The detector that started the current streak (or 'initial' before the first settle). */
  #chain: Detector = 'initial';
  #timer: TimerHandle | undefined;
  /** Which timers #timer belongs to (periodic rounds may use coarse ones). */
  #timerClock: Clock;
  #timerKind: 'round' | 'passive' = 'round';
  #dueAt = 0;
  #round: Promise<void> | undefined;
  readonly #passive = new Set<number>();
  readonly #aborts = new Set<AbortController>();
  #lastRoundStart = Number.NEGATIVE_INFINITY;
  #lastTransitionAt = Number.NEGATIVE_INFINITY;
  #stopped = false;

  constructor(vip: VipConfig, deps: RunnerDeps) {
    this.#vip = vip;
    this.#deps = deps;
    this.#since = deps.clock.now();
    this.#timerClock = deps.clock;
    this.#slots = vip.checks.map((spec) => ({ spec, checker: deps.createChecker(spec, this.#timeoutOf(spec)), lastPassiveAt: Number.NEGATIVE_INFINITY }));
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
    if (!policyChanged || this.#round || this.#stopped || this.#timerKind === 'passive') return;
    // Re-arm with the new timing if that is sooner than what is pending.
    const now = this.#deps.clock.now();
    const delay = this.#nextDelay(isPending(this.#state), now);
    if (now + delay < this.#dueAt) this.#arm(delay, 'round');
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearTimer();
    for (const slot of this.#slots) slot.unwatch?.();
    for (const ac of this.#aborts) ac.abort();
    await this.#round;
    for (const slot of this.#slots) slot.checker.dispose?.();
  }

  /**
   * False when this VIP's work is late: a check still unsettled well past its timeout, or a
   * round whose timer should have fired long ago (the event loop was blocked).
   */
  progressing(now: number): boolean {
    for (const slot of this.#slots) {
      if (slot.inflight && now > slot.inflight.deadline + this.#graceOf(slot.spec)) return false;
    }
    if (!this.#round && this.#timer !== undefined && now > this.#dueAt + Math.max(1_000, this.#vip.policy.timeoutMs)) return false;
    return true;
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

  #arm(delayMs: number, kind: 'round' | 'passive'): void {
    this.#clearTimer();
    if (this.#stopped) return;
    const delay = Math.max(0, delayMs);
    this.#timerKind = kind;
    this.#dueAt = this.#deps.clock.now() + delay;
    this.#timerClock = kind === 'round' ? (this.#deps.roundTimers ?? this.#deps.clock) : this.#deps.clock;
    this.#timer = this.#timerClock.setTimeout(() => this.#fire(), delay);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#timerClock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#timerKind === 'passive' && this.#passive.size > 0) this.#startRound('passive', [...this.#passive]);
    else this.#startRound(this.#roundDetector(), this.#slots.map((_, i) => i));
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

  #startRound(detector: Detector, indices: number[]): void {
    if (this.#stopped) return;
    const now = this.#deps.clock.now();
    this.#lastRoundStart = now;
    for (const i of indices) {
      this.#passive.delete(i);
      const slot = this.#slots[i];
      if (slot && detector === 'passive') slot.lastPassiveAt = now;
    }
    // The runner's own promise never rejects: every failure below becomes a down result.
    this.#round = this.#runRound(detector, indices).finally(() => {
      this.#round = undefined;
    });
  }

  async #runRound(detector: Detector, indices: number[]): Promise<void> {
    await Promise.all(indices.map((i) => this.#runSlot(i, detector)));
    if (this.#stopped) return;
    const pending = this.#evaluate(detector);
    if (this.#passive.size > 0) this.#schedulePassive();
    else this.#arm(this.#nextDelay(pending, this.#deps.clock.now()), 'round');
  }

  async #runSlot(index: number, detector: Detector): Promise<void> {
    const slot = this.#slots[index];
    if (!slot) return;
    const started = this.#deps.clock.now();
    let outcome: Outcome;
    if (slot.inflight) {
      outcome = down('STUCK', `previous run has not finished after ${started - slot.inflight.since} ms (timeout ${this.#timeoutOf(slot.spec)} ms)`);
    } else {
      outcome = await this.#runWithTimeout(slot, started);
    }
    const now = this.#deps.clock.now();
    const result: CheckResult & { at: number } = { ok: outcome.ok, reason: outcome.reason, code: outcome.code, durationMs: now - started, detector, at: now };
    if (this.#stopped) return;
    slot.last = result;
    this.#report(slot, result);
  }

  /**
   * Race the check against its timeout. At the timeout the check is aborted (sockets closed,
   * process group killed) and gets ABORT_GRACE_MS to settle with its own, more precise reason.
   */
  #runWithTimeout(slot: Slot, started: number): Promise<Outcome> {
    const clock = this.#deps.clock;
    const timeoutMs = this.#timeoutOf(slot.spec);
    const ac = new AbortController();
    this.#aborts.add(ac);
    slot.inflight = { since: started, deadline: started + timeoutMs };
    const raw = safeRun(slot.checker, ac.signal, timeoutMs);
    void raw.then(() => {
      slot.inflight = undefined;
      this.#aborts.delete(ac);
    });
    return new Promise<Outcome>((resolve) => {
      let grace: TimerHandle | undefined;
      let settled = false;
      const settle = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timeout);
        if (grace !== undefined) clock.clearTimeout(grace);
        resolve(o);
      };
      const timeout = clock.setTimeout(() => {
        ac.abort();
        grace = clock.setTimeout(() => settle(down('TIMEOUT', `timeout after ${timeoutMs} ms (the check did not stop when aborted)`)), ABORT_GRACE_MS);
      }, timeoutMs);
      void raw.then(settle);
    });
  }

  #evaluate(detector: Detector): boolean {
    const { rise, fall } = this.#vip.policy;
    const before = this.#state;
    const streakBefore = isPending(before) && !before.starting;
    if (!streakBefore && !before.starting) this.#chain = detector;
    const combined = combine(
      this.#slots.map((s) => s.last?.ok),
      this.#vip.require,
    );
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
    if (this.#state.starting) return 'starting';
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

/** A checker that throws or rejects yields a down result, never an unhandled rejection. */
function safeRun(checker: Checker, signal: AbortSignal, timeoutMs: number): Promise<Outcome> {
  try {
    return checker.run(signal, timeoutMs).catch((err: unknown) => down('INTERNAL', `check failed: ${errorMessage(err)}`));
  } catch (err) {
    return Promise.resolve(down('INTERNAL', `check failed: ${errorMessage(err)}`));
  }
}
