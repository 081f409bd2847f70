/**
 * The health engine: one VipRunner per VIP (its own timer, see runner.ts for the schedule and
 * hysteresis rules), connection pools shared by all of them (one connection per target), and
 * a liveness watchdog.
 *
 * Liveness (`stalled`, `lastRoundAt`): issue 2's /healthz rule, "503 when no round completed
 * within 3 intervals", per VIP and with its own interval: a VIP whose last round ended more than
 * STALL_INTERVALS of its intervals ago, or whose check is still unsettled well past its timeout
 * (a checker that ignores its abort), makes the engine stalled. Nothing polls for it: it is
 * computed from each runner's last completed round when asked. Since a check's timeout is shorter
 * than its interval (a config rule), a working VIP completes a round at least every
 * 1.1 × interval + timeout (jitter 10%), well inside the limit. A blocked event loop or a hung
 * health loop stops every completion, and shows STALL_INTERVALS intervals after the last one.
 *
 * Transitions are reported through onTransition listeners. The initial state of every VIP is
 * down ("starting"): a VIP whose first checks fail never "transitions", it simply stays down;
 * read all() at start for the full picture.
 */
import type { VipConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { CheckPools, checkerFactory, type CheckerFactory } from './checks/index.js';
import { CoarseTimers } from './coarse-timers.js';
import { systemClock, type Clock } from './clock.js';
import { FAILPOINTS_ENV, hangGate, parseFailpoints, type Failpoint, type HangGate } from './failpoints.js';
import { VipRunner, type CarriedHealth } from './runner.js';
import type { CheckResult, VipHealth } from './types.js';

export type { VipHealth } from './types.js';
export type { Clock } from './clock.js';

export interface HealthEngineOptions {
  logger: Logger;
  clock?: Clock;
  onCheckResult?: (vip: string, check: string, result: CheckResult) => void;
  /** Source of jitter, [0, 1). Tests make it deterministic. */
  random?: () => number;
  /** Replaces the real checkers (tests: scripted or never-settling checks). */
  createChecker?: CheckerFactory;
  /**
   * Periodic rounds start on a grid of this many ms (rounded up, never early; see
   * coarse-timers.ts). Default DEFAULT_ROUND_QUANTUM_MS with the system clock, 0 (exact) with
   * an injected clock, so fake-clock tests keep exact timings unless they ask for it.
   */
  roundQuantumMs?: number;
  /** Fault testing (failpoints.ts). Default: parsed from $VIPCAST_FAILPOINTS; unset means none. */
  failpoints?: Failpoint[];
}

/** /healthz turns 503 when a VIP has completed no round for this many of its intervals (issue 2). */
export const STALL_INTERVALS = 3;

/** Small next to any interval (100 ms at least), large enough to start ~10 checks per wake-up at 1,000 VIPs/s. */
export const DEFAULT_ROUND_QUANTUM_MS = 10;

export class HealthEngine {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #runnerClock: Clock;
  readonly #roundTimers: Clock;
  readonly #pools: CheckPools;
  readonly #createChecker: CheckerFactory;
  readonly #random: () => number;
  readonly #onCheckResult: HealthEngineOptions['onCheckResult'];
  readonly #listeners: Array<(h: VipHealth) => void> = [];
  readonly #runners = new Map<string, VipRunner>();
  #vips: VipConfig[];
  #started = false;
  #stopped = false;
  readonly #stopping = new Set<Promise<void>>();
  /** `health-loop-hang` fail point; undefined (nothing wired) unless fault testing asks for it. */
  readonly #hang: HangGate | undefined;

  constructor(vips: VipConfig[], opts: HealthEngineOptions) {
    this.#vips = vips;
    this.#logger = opts.logger;
    this.#clock = opts.clock ?? systemClock;
    this.#hang = hangGate(opts.failpoints ?? parseFailpoints(process.env[FAILPOINTS_ENV]), this.#logger);
    if (this.#hang) this.#logger.warn({ failpoint: this.#hang.failpoint }, 'fail point armed (fault testing only)');
    // The runners (and the pools behind their checks) see time through the gate; stalled() asks
    // with the real clock, so it notices the hang as it would a real one.
    const runnerClock = this.#hang ? this.#hang.clock(this.#clock) : this.#clock;
    this.#runnerClock = runnerClock;
    const quantum = opts.roundQuantumMs ?? (opts.clock ? 0 : DEFAULT_ROUND_QUANTUM_MS);
    this.#roundTimers = quantum > 0 ? new CoarseTimers(runnerClock, quantum) : runnerClock;
    this.#pools = new CheckPools(this.#logger, runnerClock);
    const createChecker = opts.createChecker ?? checkerFactory(this.#pools);
    this.#createChecker = this.#hang ? this.#hang.checkers(createChecker) : createChecker;
    this.#random = opts.random ?? Math.random;
    this.#onCheckResult = opts.onCheckResult;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const vip of this.#vips) this.#add(vip);
    this.#hang?.arm(this.#clock);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const runners = [...this.#runners.values()];
    this.#runners.clear();
    const stopped = runners.map((r) => r.stop());
    // After the runners know they stop: held work may now run, and lets them finish.
    this.#hang?.stop(this.#clock);
    await Promise.all([...stopped, ...this.#stopping]);
    this.#pools.close();
  }

  /**
   * Reload. A VIP with the same name, checks and require keeps its state and timers (a changed
   * policy applies from its next round). A VIP whose checks or require changed gets a new
   * runner, since old results say nothing about new checks, but it keeps the VIP's health: the
   * new checks run at once, and it takes `fall` failures of them to withdraw an up VIP (or
   * `rise` passes to raise a down one). Starting over from down would withdraw a healthy VIP on
   * every node at once when a ConfigMap edit touches one check's timeout. Removed VIPs stop;
   * new ones start. Shared connections survive: new checks take their reference before old
   * ones let go.
   */
  update(vips: VipConfig[]): void {
    this.#vips = vips;
    if (!this.#started || this.#stopped) return;
    const next = new Set(vips.map((v) => v.name));
    for (const vip of vips) {
      const runner = this.#runners.get(vip.name);
      if (runner && sameChecks(runner.vip, vip)) {
        runner.replaceConfig(vip);
        continue;
      }
      this.#add(vip, runner?.carriedOver());
      if (runner) this.#retire(runner);
    }
    for (const [name, runner] of this.#runners) {
      if (!next.has(name)) {
        this.#runners.delete(name);
        this.#retire(runner);
      }
    }
  }

  status(name: string): VipHealth | undefined {
    return this.#runners.get(name)?.health();
  }

  all(): VipHealth[] {
    return [...this.#runners.values()].map((r) => r.health());
  }

  onTransition(listener: (h: VipHealth) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Epoch ms by which every VIP had completed a round (the oldest VIP's last completed round);
   * exported as vipcast_health_last_round_timestamp_seconds.
   */
  lastRoundAt(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const runner of this.#runners.values()) oldest = Math.min(oldest, runner.lastCompletedAt);
    return Number.isFinite(oldest) ? oldest : this.#clock.now();
  }

  /** Why the health loop counts as stalled now (the first late VIP), or undefined. */
  stalled(): string | undefined {
    if (!this.#started || this.#stopped) return undefined;
    const now = this.#clock.now();
    for (const runner of this.#runners.values()) {
      const late = runner.late(now, STALL_INTERVALS);
      if (late) return `VIP ${runner.name}: ${late}`;
    }
    return undefined;
  }

  #add(vip: VipConfig, carried?: CarriedHealth): void {
    const runner = new VipRunner(vip, {
      clock: this.#runnerClock,
      roundTimers: this.#roundTimers,
      logger: this.#logger,
      random: this.#random,
      createChecker: this.#createChecker,
      onTransition: (h) => this.#emit(h),
      ...(this.#onCheckResult ? { onCheckResult: this.#onCheckResult } : {}),
      ...(carried ? { carried } : {}),
    });
    this.#runners.set(vip.name, runner);
    runner.start();
  }

  #retire(runner: VipRunner): void {
    const done = runner.stop().finally(() => this.#stopping.delete(done));
    this.#stopping.add(done);
  }

  #emit(h: VipHealth): void {
    for (const listener of this.#listeners) {
      try {
        listener(h);
      } catch (err) {
        this.#logger.error({ err, vip: h.name }, 'transition listener threw');
      }
    }
  }

}

function sameChecks(a: VipConfig, b: VipConfig): boolean {
  return stableJson(a.checks) === stableJson(b.checks) && stableJson(a.require) === stableJson(b.require);
}

/** JSON with sorted object keys, so equal specs compare equal whatever their key order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  });
}
