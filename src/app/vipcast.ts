/**
 * The running controller: wires config -> health engine -> BgpManager -> BGP backend, the
 * admin API, drain files, the health-loop watchdog and reload. `vipcast run` builds one of
 * these; tests build one with a recording backend.
 *
 * Fail-safe: if the health loop stops completing rounds (a hung check, a bug), `/healthz`
 * turns 503 (the Kubernetes sidecar's liveness probe restarts gobgpd, dropping its routes) and
 * the watchdog here withdraws every VIP, since health that is not being measured is not health.
 */
import { readFile, access } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { BgpBackend, NeighborSpec } from '../backend/types.js';
import type { VipcastConfig, VipConfig } from '../config/types.js';
import type { CheckResult } from '../health/types.js';
import { AdminServer } from '../admin/server.js';
import { BgpManager, type VipView } from '../manager/bgp-manager.js';
import { Metrics } from '../metrics/metrics.js';
import { InterfaceBinder } from '../net/bind-interface.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { HealthEngineLike, VipHealthLike } from './health-port.js';

export interface VipcastDeps {
  logger: Logger;
  createBackend: (config: VipcastConfig, logger: Logger) => BgpBackend;
  createHealth: (vips: VipConfig[], opts: { logger: Logger; onCheckResult: (vip: string, check: string, r: CheckResult) => void }) => HealthEngineLike;
  binder?: InterfaceBinder;
  clock?: Clock;
  metrics?: Metrics;
}

/** Drain files are polled: cheap (a stat per file) and immune to editors' rename tricks. */
const DRAIN_POLL_MS = 500;
/** The health loop counts as hung after this many of the shortest check intervals without a round. */

export class Vipcast {
  readonly metrics: Metrics;
  readonly backend: BgpBackend;
  readonly manager: BgpManager;
  private readonly health: HealthEngineLike;
  private readonly binder: InterfaceBinder;
  private readonly clock: Clock;
  private admin?: AdminServer;
  private token?: string;
  private drainTimer?: NodeJS.Timeout;
  private watchdogTimer?: NodeJS.Timeout;
  private stalled = false;
  private startedAt = 0;
  private shuttingDown?: Promise<void>;

  constructor(
    private config: VipcastConfig,
    private readonly deps: VipcastDeps,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.metrics = deps.metrics ?? new Metrics({ processMetrics: true });
    this.binder = deps.binder ?? new InterfaceBinder(deps.logger);
    this.backend = deps.createBackend(config, deps.logger.child({ component: 'bgp' }));
    this.manager = new BgpManager({
      backend: this.backend,
      logger: deps.logger.child({ component: 'manager' }),
      metrics: this.metrics,
      clock: this.clock,
      gracefulCommunity: config.shutdown.gracefulCommunity,
      gracePeriodMs: config.shutdown.gracePeriodMs,
      resyncIntervalMs: config.bgp.gobgp.resyncIntervalMs,
    });
    this.health = deps.createHealth(config.vips, {
      logger: deps.logger.child({ component: 'health' }),
      onCheckResult: (vip, check, r) => this.onCheckResult(vip, check, r),
    });
    this.health.onTransition((h) => this.onHealth(h));
    const lastState = new Map<string, string>();
    this.backend.onPeerChange((p) => {
      this.metrics.observePeer(p);
      // Backends also report counter updates; only state changes are worth a log line.
      if (lastState.get(p.address) === p.state) return;
      lastState.set(p.address, p.state);
      deps.logger.info({ peer: p.address, state: p.state, reason: p.reason }, 'BGP peer state');
    });
  }

  get logger(): Logger {
    return this.deps.logger;
  }

  /** Start everything; resolves once the admin API listens (sessions come up on their own). */
  async start(): Promise<{ adminPort: number }> {
    this.startedAt = this.clock.now();
    this.token = await this.readToken();
    await this.bindAddresses(this.config.vips);
    this.manager.setVips(this.config.vips);
    await this.backend.start();
    this.manager.start();
    this.health.start();
    this.admin = new AdminServer(
      {
        vips: () => this.vipView(),
        peers: () => this.backend.peers(),
        readiness: () => this.readiness(),
        liveness: () => this.liveness(),
        drain: (name) => this.manager.drain(name, 'api'),
        undrain: (name) => this.manager.undrain(name, 'api'),
        registry: this.metrics.registry,
      },
      { host: this.config.admin.host, port: this.config.admin.port, token: () => this.token, logger: this.logger.child({ component: 'admin' }) },
    );
    const addr = await this.admin.listen();
    this.pollDrainFiles();
    this.scheduleWatchdog();
    this.logger.info({ backend: this.backend.kind, vips: this.config.vips.length, admin: `${addr.address}:${addr.port}` }, 'vipcast started');
    return { adminPort: addr.port };
  }

  /** Apply a new, already validated config (SIGHUP or file change). */
  async reload(next: VipcastConfig): Promise<void> {
    const prev = this.config;
    if (Boolean(prev.bgp.gobgpAddress) !== Boolean(next.bgp.gobgpAddress) || prev.bgp.gobgpAddress !== next.bgp.gobgpAddress) {
      this.logger.warn('bgp.gobgp_address changed: the backend changes only on restart; other changes applied');
    }
    if (prev.admin.host !== next.admin.host || prev.admin.port !== next.admin.port) {
      this.logger.warn('admin.listen changed: takes effect on restart');
    }
    this.config = next;
    this.token = await this.readToken();
    await this.bindAddresses(next.vips);
    this.health.update(next.vips);
    this.manager.setVips(next.vips);
    // The new VIPs' current health (unchanged ones keep theirs inside the engine).
    for (const vip of next.vips) {
      const h = this.health.status(vip.name);
      if (h) this.onHealth(h);
    }
    if (!sameNeighbors(prev.bgp.neighbors, next.bgp.neighbors)) await this.backend.updateNeighbors(next.bgp.neighbors);
    await this.manager.flush();
    await this.unbindRemoved(next.vips);
    this.metrics.configReloads.inc({ outcome: 'ok' });
    this.logger.info({ vips: next.vips.length }, 'configuration reloaded');
  }

  /** Ordered shutdown (issue 2). Idempotent: a second call returns the same promise. */
  shutdown(message = 'vipcast shutting down'): Promise<void> {
    this.shuttingDown ??= this.runShutdown(message);
    return this.shuttingDown;
  }

  private async runShutdown(message: string): Promise<void> {
    this.logger.info('shutdown: draining every VIP');
    if (this.drainTimer) this.clock.clearTimeout(this.drainTimer);
    if (this.watchdogTimer) this.clock.clearTimeout(this.watchdogTimer);
    await this.health.stop();
    await this.manager.shutdown();
    await this.backend.stop(message);
    await this.binder.unbindAll();
    await this.admin?.close();
    this.logger.info('shutdown complete');
  }

  /** Release timers and sockets without withdrawing (second signal: exit at once). */
  async abort(): Promise<void> {
    this.manager.stop();
    if (this.drainTimer) this.clock.clearTimeout(this.drainTimer);
    if (this.watchdogTimer) this.clock.clearTimeout(this.watchdogTimer);
    await this.admin?.close();
  }

  /**
   * /v1/vips. A VIP failing since start never produced a transition, so while it is down its
   * reason comes from the engine's latest result ("http: connect ECONNREFUSED ..."), not "starting".
   */
  vipView(): VipView[] {
    return this.manager.view().map((v) => {
      if (v.state !== 'down' || this.stalled) return v;
      const h = this.health.status(v.name);
      return h && !h.healthy ? { ...v, reason: h.reason } : v;
    });
  }

  readiness(): { ready: boolean; reason: string } {
    if (this.shuttingDown) return { ready: false, reason: 'shutting down' };
    return this.backend.readiness();
  }

  /** /healthz: alive while the health loop completes rounds (the fail-safe depends on it). */
  liveness(): { ok: boolean; reason: string } {
    // The health loop is stopped during the ordered shutdown; the process is alive and draining,
    // and the GoBGP sidecar's preStop waits on this answer to keep its sessions up meanwhile.
    if (this.shuttingDown) return { ok: true, reason: 'shutting down: ordered drain in progress' };
    if (this.config.vips.length === 0) return { ok: true, reason: 'no VIPs configured' };
    const stall = this.health.stalled();
    if (stall) return { ok: false, reason: `health loop stalled: ${stall}` };
    const age = this.clock.now() - Math.max(this.health.lastRoundAt(), this.startedAt);
    return { ok: true, reason: `every VIP completed a round in the last ${age} ms` };
  }

  private onHealth(h: VipHealthLike): void {
    if (this.stalled) return;
    this.manager.health(h.name, { healthy: h.healthy, reason: h.reason, detector: h.lastDetector });
  }

  private onCheckResult(vip: string, check: string, r: CheckResult): void {
    this.metrics.checkDuration.observe({ vip, check }, r.durationMs / 1000);
    if (!r.ok) this.metrics.checkFailures.inc({ vip, check });
  }

  /** Watchdog: withdraw everything while the health loop is stalled; restore when it recovers. */
  private scheduleWatchdog(): void {
    const period = Math.max(100, Math.min(...this.config.vips.map((v) => v.policy.intervalMs), 1000));
    this.watchdogTimer = this.clock.setTimeout(() => {
      this.checkStall();
      this.scheduleWatchdog();
    }, period);
  }

  private checkStall(): void {
    const live = this.liveness();
    this.metrics.healthRound.set(this.health.lastRoundAt() / 1000);
    if (!live.ok && !this.stalled) {
      this.stalled = true;
      this.logger.error({ reason: live.reason }, 'health loop stalled: withdrawing every VIP until it recovers');
      for (const vip of this.config.vips) this.manager.health(vip.name, { healthy: false, reason: live.reason, detector: 'periodic' });
    } else if (live.ok && this.stalled) {
      this.stalled = false;
      this.logger.warn('health loop recovered');
      for (const vip of this.config.vips) {
        const h = this.health.status(vip.name);
        if (h) this.onHealth(h);
      }
    }
  }

  private pollDrainFiles(): void {
    this.drainTimer = this.clock.setTimeout(() => {
      void this.checkDrainFiles().finally(() => {
        if (!this.shuttingDown) this.pollDrainFiles();
      });
    }, DRAIN_POLL_MS);
  }

  private async checkDrainFiles(): Promise<void> {
    for (const vip of this.config.vips) {
      if (!vip.drainFile) continue;
      const present = await access(vip.drainFile).then(
        () => true,
        () => false,
      );
      const drained = this.manager.isDrained(vip.name, 'file');
      if (present && !drained) this.manager.drain(vip.name, 'file');
      else if (!present && drained) this.manager.undrain(vip.name, 'file');
    }
  }

  private async bindAddresses(vips: VipConfig[]): Promise<void> {
    for (const vip of vips) if (vip.bindInterface) await this.binder.bind(vip.prefix, vip.bindInterface);
  }

  /** After the withdraw of removed VIPs was applied: take their addresses off the interface. */
  private async unbindRemoved(vips: VipConfig[]): Promise<void> {
    const keep = new Set(vips.filter((v) => v.bindInterface).map((v) => `${v.prefix} ${v.bindInterface}`));
    for (const b of this.binder.bound()) if (!keep.has(`${b.prefix} ${b.dev}`)) await this.binder.unbind(b.prefix, b.dev);
  }

  private async readToken(): Promise<string | undefined> {
    const file = this.config.admin.tokenFile;
    if (!file) return undefined;
    try {
      const token = (await readFile(file, 'utf8')).trim();
      if (token.length < 16) this.logger.warn({ file }, 'admin token is shorter than 16 characters');
      return token || undefined;
    } catch (err) {
      this.logger.error({ file, err: (err as Error).message }, 'cannot read admin.token_file: admin mutations disabled');
      return undefined;
    }
  }
}

function sameNeighbors(a: NeighborSpec[], b: NeighborSpec[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
