/**
 * vipcast_check_duration_seconds: a Prometheus histogram over (vip, check) that prom-client's
 * registry exposes exactly as it exposes its own Histogram, but whose observe() does not
 * allocate. It is observed once per check run, 1,000 times a second at 1,000 VIPs.
 */
import type { Metric, Registry } from 'prom-client';

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
 * A histogram over two labels, exposed through prom-client's registry in prom-client's own
 * format (`_bucket` series with `le`, cumulative, `+Inf`, then `_sum` and `_count`; a test
 * compares both byte for byte), whose observe() is two Map look-ups and a bucket scan.
 * prom-client's Histogram validates the label object, builds a hash string from the label
 * values (check labels are URLs) and looks it up on every call, with a closure and objects per
 * call: in the allocation profile it was 12% of the health loop's garbage, and 5% of its CPU
 * samples (docs/perf-health.md). The registry, the text format and every other metric stay
 * prom-client's.
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
