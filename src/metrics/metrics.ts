/**
 * Prometheus metrics (prom-client) on a registry of our own, so tests and several instances in
 * one process never share counters. Names follow the Prometheus conventions: base units
 * (seconds), `_total` for counters, one label per dimension an operator filters on.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { PeerStatus } from '../backend/types.js';

export class Metrics {
  readonly registry = new Registry();
  readonly vipAdvertised = new Gauge({ name: 'vipcast_vip_advertised', help: '1 while the VIP is advertised to BGP', labelNames: ['vip'], registers: [this.registry] });
  readonly vipHealthy = new Gauge({ name: 'vipcast_vip_healthy', help: '1 while the VIP passes its checks (after rise/fall)', labelNames: ['vip'], registers: [this.registry] });
  readonly vipTransitions = new Counter({ name: 'vipcast_vip_transitions_total', help: 'VIP state changes, by the state entered', labelNames: ['vip', 'to'], registers: [this.registry] });
  /** Observed once per check run (1,000 a second at 1,000 VIPs): see CheckHistogram. */
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
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'vipcast_' });
  }

  observePeer(peer: PeerStatus): void {
    this.peerEstablished.set({ peer: peer.address }, peer.state === 'established' ? 1 : 0);
  }

  /** Drop a removed VIP's series so dashboards do not show ghosts after a reload. */
  forgetVip(vip: string): void {
    this.vipAdvertised.remove({ vip });
    this.vipHealthy.remove({ vip });
  }
}

interface ExposedValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
  exemplar?: null;
}

interface Series {
  labels: Record<string, string>;
  /** Observations per bucket, not cumulative; the last one is above every bound (+Inf only). */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram over two labels that prom-client's registry exposes exactly as it
 * exposes its own Histogram (`_bucket` series with `le`, cumulative, `+Inf`, then `_sum` and
 * `_count`), but whose observe() is two Map look-ups and a bucket scan. prom-client's
 * Histogram validates the label object, builds a hash string from the label values (URLs,
 * here) and looks it up in a dictionary on every call: about 1.3 points of a core at 1,000
 * checks a second (docs/perf-health.md), as much as a fifth of the whole check.
 */
export class CheckHistogram {
  readonly name: string;
  readonly help: string;
  readonly #labelNames: readonly [string, string];
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Map<string, Series>>();

  constructor(opts: { name: string; help: string; labelNames: readonly [string, string]; buckets: readonly number[]; registers: Registry[] }) {
    this.name = opts.name;
    this.help = opts.help;
    this.#labelNames = opts.labelNames;
    this.#bounds = [...opts.buckets].sort((a, b) => a - b);
    // The registry only calls get(), reset() and reads name (prom-client's Registry).
    for (const registry of opts.registers) registry.registerMetric(this as unknown as Metric);
  }

  observe(labels: Record<string, string>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const [first, second] = this.#labelNames;
    const a = labels[first];
    const b = labels[second];
    if (a === undefined || b === undefined) throw new Error(`${this.name}: labels ${first} and ${second} are required`);
    let inner = this.#series.get(a);
    if (!inner) {
      inner = new Map();
      this.#series.set(a, inner);
    }
    let series = inner.get(b);
    if (!series) {
      series = { labels: { [first]: a, [second]: b }, counts: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0, count: 0 };
      inner.set(b, series);
    }
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    series.counts[i]!++;
    series.sum += value;
    series.count++;
  }

  remove(labels: Record<string, string>): void {
    const [first, second] = this.#labelNames;
    const inner = this.#series.get(labels[first] ?? '');
    inner?.delete(labels[second] ?? '');
    if (inner?.size === 0) this.#series.delete(labels[first] ?? '');
  }

  reset(): void {
    this.#series.clear();
  }

  /** What prom-client's Histogram.get() returns, for the registry to format. */
  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: ExposedValue[] }> {
    const values: ExposedValue[] = [];
    for (const inner of this.#series.values()) {
      for (const s of inner.values()) {
        let cumulative = 0;
        this.#bounds.forEach((le, i) => {
          cumulative += s.counts[i]!;
          values.push({ metricName: `${this.name}_bucket`, labels: { le, ...s.labels }, value: cumulative, exemplar: null });
        });
        values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...s.labels }, value: s.count, exemplar: null });
        values.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum });
        values.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count });
      }
    }
    return Promise.resolve({ name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values });
  }
}
