/**
 * Prometheus metrics (prom-client) on a registry of our own, so tests and several instances in
 * one process never share counters. Names follow the Prometheus conventions: base units
 * (seconds), `_total` for counters, one label per dimension an operator filters on.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CheckHistogram } from './check-histogram.js';
import type { PeerStatus } from '../backend/types.js';
import type { VipStateName } from '../manager/vip-state.js';

/** The `to` values of vipcast_vip_transitions_total (BgpManager's VIP states). */
const VIP_STATES = ['up', 'down', 'draining', 'drained'] as const satisfies readonly VipStateName[];

export class Metrics {
  readonly registry = new Registry();
  readonly vipAdvertised = new Gauge({ name: 'vipcast_vip_advertised', help: '1 while the VIP is advertised to BGP', labelNames: ['vip'], registers: [this.registry] });
  readonly vipHealthy = new Gauge({ name: 'vipcast_vip_healthy', help: '1 while the VIP passes its checks (after rise/fall)', labelNames: ['vip'], registers: [this.registry] });
  readonly vipTransitions = new Counter({ name: 'vipcast_vip_transitions_total', help: 'VIP state changes, by the state entered', labelNames: ['vip', 'to'], registers: [this.registry] });
  /** Observed once per check run: see CheckHistogram. */
  readonly checkDuration = new CheckHistogram({
    name: 'vipcast_check_duration_seconds',
    help: 'Duration of health checks',
    labelNames: ['vip', 'check'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly checkFailures = new Counter({ name: 'vipcast_check_failures_total', help: 'Failed health check runs', labelNames: ['vip', 'check'], registers: [this.registry] });
  readonly peerEstablished = new Gauge({ name: 'vipcast_bgp_peer_established', help: '1 while the BGP session is Established', labelNames: ['peer'], registers: [this.registry] });
  readonly reconciles = new Counter({ name: 'vipcast_reconcile_total', help: 'Desired-set applications to the BGP backend, by outcome', labelNames: ['outcome'], registers: [this.registry] });
  readonly healthRound = new Gauge({ name: 'vipcast_health_last_round_timestamp_seconds', help: 'When the health loop last completed a round', registers: [this.registry] });
  readonly configReloads = new Counter({ name: 'vipcast_config_reloads_total', help: 'Config reloads, by outcome', labelNames: ['outcome'], registers: [this.registry] });

  constructor(opts: { processMetrics?: boolean } = {}) {
    // The event-loop lag histogram samples on a timer of its own; prom-client's default, every
    // 10 ms, woke an otherwise idle vipcast 100 times a second. Every 100 ms still catches any
    // stall long enough to matter to a health loop (the watchdog's unit is the check interval).
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'vipcast_', eventLoopMonitoringPrecision: 100 });
  }

  observePeer(peer: PeerStatus): void {
    this.peerEstablished.set({ peer: peer.address }, peer.state === 'established' ? 1 : 0);
  }

  /** Drop a removed VIP's series so dashboards do not show ghosts after a reload. */
  /**
   * Drops every series of a VIP removed from the config, which would otherwise be exported (and
   * kept in memory) until the process exits. prom-client removes exact label sets only, so the
   * caller names the VIP's check labels; transitions cover every state the manager reports.
   */
  forgetVip(vip: string, checks: readonly string[] = []): void {
    this.vipAdvertised.remove({ vip });
    this.vipHealthy.remove({ vip });
    for (const to of VIP_STATES) this.vipTransitions.remove({ vip, to });
    this.forgetChecks(vip, checks);
  }

  /** Drops the series of checks a reload removed from a VIP that stays. */
  forgetChecks(vip: string, checks: readonly string[]): void {
    for (const check of checks) {
      this.checkDuration.remove({ vip, check });
      this.checkFailures.remove({ vip, check });
    }
  }
}
