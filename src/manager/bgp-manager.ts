/**
 * BgpManager: holds every VIP's state, derives the desired set of routes from it (healthy,
 * not drained, with the attributes of its state) and hands the whole set to the backend
 * (`apply(desired)`, see src/backend/types.ts). It reconciles on every change and
 * periodically (drift repair), and runs the ordered drain: GRACEFUL_SHUTDOWN (RFC 8326),
 * grace period, withdraw, confirm.
 *
 * Reconciliation is level-triggered and coalesced: inputs only mark the set dirty; one loop
 * applies the latest desired set, so a burst of changes becomes one apply and a failed apply
 * is retried with the then-current set, never a stale one.
 */
import type { Logger } from 'pino';
import type { BgpBackend, DesiredSet, VipRoute } from '../backend/types.js';
import type { VipConfig } from '../config/types.js';
import type { Detector } from '../health/types.js';
import type { Metrics } from '../metrics/metrics.js';
import { systemClock, type Clock } from '../util/clock.js';
import { describe, newRuntime, sameAttributes, wantedAttributes, type DrainSource, type VipRuntime, type VipStateName } from './vip-state.js';

export interface ManagerOptions {
  backend: BgpBackend;
  logger: Logger;
  metrics?: Metrics;
  clock?: Clock;
  gracefulCommunity: boolean;
  gracePeriodMs: number;
  /** Periodic drift repair (backend.resync + re-apply). */
  resyncIntervalMs: number;
}

export interface HealthUpdate {
  healthy: boolean;
  reason: string;
  detector: Detector;
}

/** One row of GET /v1/vips. */
export interface VipView {
  name: string;
  prefix: string;
  healthy: boolean;
  advertised: boolean;
  state: VipStateName;
  reason: string;
  since: string;
  detector: Detector;
  drained_by: DrainSource[];
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;

export class BgpManager {
  private readonly vips = new Map<string, VipRuntime>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly clock: Clock;
  private applied: DesiredSet = new Map();
  /** The set last handed to the backend (in flight or done): what new inputs are compared with. */
  private target: DesiredSet = new Map();
  private dirty = false;
  private running: Promise<void> | undefined;
  private failures = 0;
  private retryTimer?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly opts: ManagerOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Initial configuration and every reload: unchanged VIPs keep their state. */
  setVips(configs: VipConfig[]): void {
    const now = this.clock.now();
    const names = new Set(configs.map((c) => c.name));
    for (const [name, vip] of this.vips) {
      if (names.has(name)) continue;
      this.vips.delete(name);
      this.clearTimer(name, 'hold');
      this.clearTimer(name, 'drain');
      this.opts.metrics?.forgetVip(name, vip.config.checks.map((c) => c.label));
      this.opts.logger.info({ vip: name }, 'VIP removed from config: withdrawing');
    }
    for (const config of configs) {
      const existing = this.vips.get(config.name);
      if (existing) {
        const kept = new Set(config.checks.map((c) => c.label));
        const dropped = existing.config.checks.map((c) => c.label).filter((l) => !kept.has(l));
        if (dropped.length > 0) this.opts.metrics?.forgetChecks(config.name, dropped);
        existing.config = config;
      } else {
        this.vips.set(config.name, newRuntime(config, now));
        // Exported from the start: a VIP that never passed must show as 0, not be missing (an
        // alert on vipcast_vip_healthy == 0 would not see it).
        this.opts.metrics?.vipHealthy.set({ vip: config.name }, 0);
      }
    }
    this.recompute();
  }

  /** A health transition from the health engine (after rise/fall). */
  health(name: string, update: HealthUpdate): void {
    const vip = this.vips.get(name);
    if (!vip) return;
    const now = this.clock.now();
    const wasAdvertisedUp = vip.healthy && sameAttributes(vip.wanted, vip.config.attributes);
    vip.healthy = update.healthy;
    vip.healthReason = update.reason;
    vip.detector = update.detector;
    this.opts.metrics?.vipHealthy.set({ vip: name }, update.healthy ? 1 : 0);
    // Hold-down starts at the withdraw of an up route (flap damping on top of rise/fall).
    if (!update.healthy && wasAdvertisedUp && vip.config.holdDownMs > 0) {
      vip.holdDownUntil = now + vip.config.holdDownMs;
    }
    if (update.healthy && now < vip.holdDownUntil) this.setTimer(name, 'hold', vip.holdDownUntil - now);
    this.recompute(vip);
  }

  /** Start draining a VIP; returns false for an unknown name. */
  drain(name: string, source: DrainSource): boolean {
    const vip = this.vips.get(name);
    if (!vip) return false;
    this.startDrain(vip, source);
    this.recompute(vip);
    return true;
  }

  undrain(name: string, source: DrainSource): boolean {
    const vip = this.vips.get(name);
    if (!vip) return false;
    if (!vip.drainSources.delete(source)) return true;
    if (vip.drainSources.size === 0) {
      vip.drainPhase = 'none';
      vip.drainAttributes = undefined;
      this.clearTimer(name, 'drain');
      this.opts.logger.info({ vip: name, source }, 'VIP undrained');
    }
    this.recompute(vip);
    return true;
  }

  has(name: string): boolean {
    return this.vips.has(name);
  }

  isDrained(name: string, source: DrainSource): boolean {
    return this.vips.get(name)?.drainSources.has(source) ?? false;
  }

  view(): VipView[] {
    return [...this.vips.values()].map((vip) => ({
      name: vip.config.name,
      prefix: vip.config.prefix,
      healthy: vip.healthy,
      advertised: this.applied.has(vip.config.prefix),
      state: vip.state,
      reason: vip.reason,
      since: vip.since.toISOString(),
      detector: vip.detector,
      drained_by: [...vip.drainSources],
    }));
  }

  /** The routes the backend currently holds as far as we know (last successful apply). */
  advertised(): DesiredSet {
    return this.applied;
  }

  start(): void {
    this.scheduleResync();
    this.requestReconcile();
  }

  /** Resolves once every change made so far has been applied (or failed and been scheduled for retry). */
  async flush(): Promise<void> {
    for (let i = 0; i < 100 && (this.running || this.dirty); i++) {
      if (!this.running) this.requestReconcile();
      await this.running;
    }
  }

  /**
   * Ordered shutdown (issue 2): GRACEFUL_SHUTDOWN on every advertised VIP, wait the grace
   * period, withdraw everything, and wait until the backend confirms its own view agrees.
   */
  async shutdown(): Promise<void> {
    // The grace period lets routers move traffic away; with no established session there is
    // nobody to tell, so waiting would only delay the exit.
    const anyAdvertised = this.applied.size > 0 && this.opts.backend.peers().some((p) => p.state === 'established');
    for (const vip of this.vips.values()) this.startDrain(vip, 'shutdown', { timer: false });
    this.recompute();
    await this.flush();
    if (anyAdvertised && this.opts.gracefulCommunity && this.opts.gracePeriodMs > 0) {
      this.opts.logger.info({ graceMs: this.opts.gracePeriodMs }, 'GRACEFUL_SHUTDOWN advertised; waiting before withdraw');
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, this.opts.gracePeriodMs));
    }
    for (const vip of this.vips.values()) vip.drainPhase = 'done';
    this.recompute();
    await this.flush();
    this.stopTimers();
    await this.opts.backend.resync();
    this.opts.logger.info('all VIPs withdrawn and confirmed by the backend');
  }

  /** Stop timers without withdrawing (the process is exiting at once). */
  stop(): void {
    this.stopTimers();
  }

  private stopTimers(): void {
    this.stopped = true;
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
    if (this.retryTimer) this.clock.clearTimeout(this.retryTimer);
    if (this.resyncTimer) this.clock.clearTimeout(this.resyncTimer);
  }

  private startDrain(vip: VipRuntime, source: DrainSource, opts: { timer: boolean } = { timer: true }): void {
    const first = vip.drainSources.size === 0;
    vip.drainSources.add(source);
    if (!first) return;
    this.opts.logger.info({ vip: vip.config.name, source }, 'draining VIP');
    if (this.opts.gracefulCommunity && vip.wanted && this.opts.gracePeriodMs > 0) {
      vip.drainPhase = 'graceful';
      vip.drainAttributes = vip.wanted;
      if (opts.timer) this.setTimer(vip.config.name, 'drain', this.opts.gracePeriodMs, () => (vip.drainPhase = 'done'));
    } else {
      vip.drainPhase = 'done';
    }
  }

  /**
   * Re-derive the wanted route and state of one VIP (`only`: what an event about that VIP can
   * change) or of every VIP; request a reconcile when anything changed. Per VIP because 1,000 VIPs
   * coming up at start are 1,000 health events: re-deriving all of them on each was quadratic,
   * and its garbage set the process's peak memory (docs/perf-health.md).
   */
  private recompute(only?: VipRuntime): void {
    const now = this.clock.now();
    let changed = false;
    if (only) changed = this.rederive(only, now);
    else for (const vip of this.vips.values()) changed = this.rederive(vip, now) || changed;
    if (changed || (only ? this.differsFromTarget(only) : this.desiredDiffersFromTarget())) this.requestReconcile();
  }

  /** Returns whether the VIP's wanted route changed. */
  private rederive(vip: VipRuntime, now: number): boolean {
    const wanted = wantedAttributes(vip, now);
    const changed = !sameAttributes(wanted, vip.wanted);
    if (changed) vip.wanted = wanted;
    const { state, reason } = describe(vip, now);
    if (state !== vip.state) {
      this.opts.logger.info({ vip: vip.config.name, from: vip.state, to: state, reason }, 'VIP state changed');
      this.opts.metrics?.vipTransitions.inc({ vip: vip.config.name, to: state });
      vip.state = state;
      vip.since = new Date(now);
    }
    vip.reason = reason;
    return changed;
  }

  /** desiredDiffersFromTarget() for one VIP. */
  private differsFromTarget(vip: VipRuntime): boolean {
    const target = this.target.get(vip.config.prefix);
    if (!vip.wanted) return target !== undefined;
    return !sameAttributes(vip.wanted, target?.attributes);
  }

  private desired(): Map<string, VipRoute> {
    const set = new Map<string, VipRoute>();
    for (const vip of this.vips.values()) {
      if (!vip.wanted) continue;
      set.set(vip.config.prefix, { vip: vip.config.name, prefix: vip.config.prefix, family: vip.config.family, attributes: vip.wanted });
    }
    return set;
  }

  private desiredDiffersFromTarget(): boolean {
    const desired = this.desired();
    if (desired.size !== this.target.size) return true;
    for (const [prefix, route] of desired) {
      if (!sameAttributes(route.attributes, this.target.get(prefix)?.attributes)) return true;
    }
    return false;
  }

  private requestReconcile(): void {
    this.dirty = true;
    if (!this.running) this.running = this.reconcileLoop().finally(() => (this.running = undefined));
  }

  private async reconcileLoop(): Promise<void> {
    // Bounded: each round consumes the dirty flag; inputs arriving during an apply cause one more.
    for (let round = 0; this.dirty && round < 1_000; round++) {
      this.dirty = false;
      const desired = this.desired();
      this.target = desired;
      try {
        await this.opts.backend.apply(desired);
        this.applied = desired;
        this.failures = 0;
        this.opts.metrics?.reconciles.inc({ outcome: 'ok' });
        this.publishAdvertised();
      } catch (err) {
        this.failures++;
        this.opts.metrics?.reconciles.inc({ outcome: 'error' });
        const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(this.failures - 1, 10));
        // Log the first failure and then every tenth so a dead backend does not flood the log.
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.opts.logger.warn({ err, failures: this.failures, retryMs: delay }, 'applying the desired set failed; will retry');
        }
        this.scheduleRetry(delay);
        return;
      }
    }
  }

  private publishAdvertised(): void {
    const m = this.opts.metrics;
    if (!m) return;
    // Only the VIPs whose value changed: this runs after every apply.
    for (const vip of this.vips.values()) {
      const advertised = this.applied.has(vip.config.prefix);
      if (vip.exportedAdvertised === advertised) continue;
      vip.exportedAdvertised = advertised;
      m.vipAdvertised.set({ vip: vip.config.name }, advertised ? 1 : 0);
    }
  }

  private scheduleRetry(delayMs: number): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.requestReconcile();
    }, delayMs);
  }

  private scheduleResync(): void {
    if (this.stopped || this.opts.resyncIntervalMs <= 0) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      void this.resync().finally(() => this.scheduleResync());
    }, this.opts.resyncIntervalMs);
  }

  /**
   * Periodic re-apply of the whole desired set (level-triggered). Drift repair against the
   * daemon's own RIB (ListPath) is the backend's job on the same period (src/gobgp); this
   * guards the manager's side: a set the backend lost is handed over again.
   */
  private resync(): Promise<void> {
    this.requestReconcile();
    return this.flush();
  }

  /** One timer per VIP and purpose: the hold-down expiry and the drain grace period. */
  private setTimer(name: string, purpose: 'hold' | 'drain', delayMs: number, before?: () => void): void {
    const key = `${name}/${purpose}`;
    this.clearTimer(name, purpose);
    this.timers.set(
      key,
      this.clock.setTimeout(() => {
        this.timers.delete(key);
        before?.();
        this.recompute();
      }, Math.max(0, delayMs)),
    );
  }

  private clearTimer(name: string, purpose: 'hold' | 'drain'): void {
    const key = `${name}/${purpose}`;
    const t = this.timers.get(key);
    if (t) this.clock.clearTimeout(t);
    this.timers.delete(key);
  }
}
