/**
 * CheckHistogram (src/metrics/check-histogram.ts), the per-check duration histogram made cheap for
 * 1,000 checks a second, must expose exactly what prom-client's own Histogram exposes for the
 * same observations: same text, same JSON, same reset and remove behaviour.
 */
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CheckHistogram } from '../../src/metrics/check-histogram.js';
import { Metrics } from '../../src/metrics/metrics.js';

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function pair(): { ours: CheckHistogram; theirs: Histogram; a: Registry; b: Registry } {
  const a = new Registry();
  const b = new Registry();
  const cfg = { name: 'x_check_duration_seconds', help: 'Duration of health checks', buckets: BUCKETS };
  const ours = new CheckHistogram({ ...cfg, labelNames: ['vip', 'check'], registers: [a] });
  const theirs = new Histogram({ ...cfg, labelNames: ['vip', 'check'], registers: [b] });
  return { ours, theirs, a, b };
}

describe('CheckHistogram', () => {
  it('exposes what prom-client\'s Histogram exposes, bucket bounds and +Inf included', async () => {
    const { ours, theirs, a, b } = pair();
    // Values on and between the bounds, below the first, above the last; labels that need escaping.
    const values = [0, 0.0005, 0.001, 0.0010001, 0.003, 0.005, 0.3, 0.5, 1, 4.99, 5, 5.0001, 60];
    const labels = [
      { vip: 'web', check: 'http:http://127.0.0.1:8080/' },
      { vip: 'web', check: 'tcp:127.0.0.1:22' },
      { vip: 'db "primary"', check: 'exec:/bin/check\\n' },
    ];
    values.forEach((v, i) => {
      const l = labels[i % labels.length]!;
      ours.observe(l, v);
      theirs.observe(l, v);
    });
    expect(await a.metrics()).toBe(await b.metrics());
    expect(await a.getMetricsAsJSON()).toEqual(await b.getMetricsAsJSON());
  });

  it('remove() drops one series, reset() all, as prom-client does', async () => {
    const { ours, theirs, a, b } = pair();
    for (const h of [ours, theirs]) {
      h.observe({ vip: 'a', check: 'c1' }, 0.01);
      h.observe({ vip: 'a', check: 'c2' }, 0.02);
      h.observe({ vip: 'b', check: 'c1' }, 0.03);
      h.remove({ vip: 'a', check: 'c1' });
    }
    expect(await a.metrics()).toBe(await b.metrics());
    a.resetMetrics();
    b.resetMetrics();
    expect(await a.metrics()).toBe(await b.metrics());
  });

  it('refuses non-finite values and missing labels', () => {
    const { ours } = pair();
    expect(() => ours.observe({ vip: 'a', check: 'c' }, Number.NaN)).toThrow(TypeError);
    expect(() => ours.observe({ vip: 'a' }, 1)).toThrow(/required/);
  });

  it('is what Metrics exposes as vipcast_check_duration_seconds', async () => {
    const m = new Metrics();
    m.checkDuration.observe({ vip: 'web', check: 'tcp:x' }, 0.002);
    const text = await m.registry.metrics();
    expect(text).toContain('# TYPE vipcast_check_duration_seconds histogram');
    expect(text).toContain('vipcast_check_duration_seconds_bucket{le="0.005",vip="web",check="tcp:x"} 1');
    expect(text).toContain('vipcast_check_duration_seconds_count{vip="web",check="tcp:x"} 1');
  });
});
