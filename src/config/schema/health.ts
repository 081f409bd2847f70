/**
 * Health timing: the `health:` section (defaults for every VIP) and the same keys overridden
 * per VIP. The relation rules live here so both places give the same messages.
 */
import * as z from 'zod';
import type { HealthPolicy } from '../../health/types.js';
import { formatDuration } from '../duration.js';
import { duration, intIn, percent, report } from './primitives.js';

export const DEFAULT_POLICY: HealthPolicy = {
  intervalMs: 2_000,
  fastIntervalMs: 500,
  timeoutMs: 1_000,
  rise: 2,
  fall: 2,
  jitter: 0.1,
};

const HOUR = 3_600_000;
/** Below ~50 ms a check's own scheduling noise dominates and 1,000 VIPs would saturate a core. */
const MIN_INTERVAL_MS = 50;
/** Beyond 50% two consecutive runs could fire almost together, defeating the interval. */
const MAX_JITTER_PERCENT = 50;

/** The policy keys, accepted in `health:` and at the top of each VIP. */
export const policyShape = {
  interval: duration(MIN_INTERVAL_MS, HOUR, '50ms..1h').optional(),
  fast_interval: duration(MIN_INTERVAL_MS, HOUR, '50ms..1h').optional(),
  timeout: duration(1, HOUR, '1ms..1h').optional(),
  rise: intIn(1, 100).optional(),
  fall: intIn(1, 100).optional(),
  jitter: percent(MAX_JITTER_PERCENT).optional(),
};

export interface PolicyOverrides {
  interval?: number | undefined;
  fast_interval?: number | undefined;
  timeout?: number | undefined;
  rise?: number | undefined;
  fall?: number | undefined;
  jitter?: number | undefined;
}

export function applyPolicy(base: HealthPolicy, o: PolicyOverrides): HealthPolicy {
  return {
    intervalMs: o.interval ?? base.intervalMs,
    fastIntervalMs: o.fast_interval ?? base.fastIntervalMs,
    timeoutMs: o.timeout ?? base.timeoutMs,
    rise: o.rise ?? base.rise,
    fall: o.fall ?? base.fall,
    jitter: o.jitter ?? base.jitter,
  };
}

/**
 * Cross-key timing rules for an effective policy. `o` says which keys were written here, so the
 * problem is reported at a key the reader can see (the timeout if it was set, else the interval).
 */
export function checkPolicy(p: HealthPolicy, o: PolicyOverrides, ctx: { addIssue: z.core.$RefinementCtx['addIssue'] }): void {
  // A check never overlaps itself, so a timeout at or above the interval would silently
  // stretch the interval; refuse it instead.
  if (p.timeoutMs >= p.intervalMs) {
    const at = o.timeout !== undefined || o.interval === undefined ? 'timeout' : 'interval';
    const hint = at === 'interval' ? ' (the timeout is inherited: set a shorter timeout next to this interval)' : '';
    report(ctx, 'conflict', `timeout (${formatDuration(p.timeoutMs)}) must be shorter than interval (${formatDuration(p.intervalMs)}): a check never overlaps itself${hint}`, [at]);
  }
  if (p.fastIntervalMs > p.intervalMs) {
    const at = o.fast_interval !== undefined || o.interval === undefined ? 'fast_interval' : 'interval';
    report(ctx, 'conflict', `fast_interval (${formatDuration(p.fastIntervalMs)}) must not be longer than interval (${formatDuration(p.intervalMs)})`, [at]);
  }
}

/** The `health:` section: defaults for every VIP. */
export const healthSection = z
  .strictObject(policyShape)
  .prefault({})
  .transform((o, ctx) => {
    const p = applyPolicy(DEFAULT_POLICY, o);
    checkPolicy(p, o, ctx);
    return p;
  });
