/**
 * Health timing: the `health:` section (defaults for every VIP) and the same keys overridden
 * per VIP. The relation rules live here so both places give the same messages.
 */
import * as z from 'zod';
import type { HealthPolicy } from '../../health/types.js';
import { formatDuration } from '../duration.js';
import { needs } from './cross-field.js';
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
 * Defaults as far as they are known: a key is missing when its `health:` value is invalid (that
 * problem is reported there), and the rules needing it are skipped for the VIPs.
 */
export type PolicyDefaults = Partial<HealthPolicy>;

type Ctx = { addIssue: z.core.$RefinementCtx['addIssue'] };

/**
 * The cross-key timing rules, for `health:` (defaults: DEFAULT_POLICY) and for each VIP
 * (defaults: the `health:` section). `o` says which keys were written here, so the problem is
 * reported at a key the reader can see (the timeout if it was set, else the interval). A rule
 * whose keys are all inherited is the `health:` section's problem, reported there only. Each
 * comes with the keys it reads, for its `when` (./cross-field.ts).
 */
export function timingRules(defaults: PolicyDefaults) {
  return {
    timeout: {
      // A check never overlaps itself, so a timeout at or above the interval would silently
      // stretch the interval; refuse it instead.
      rule: (o: PolicyOverrides, ctx: Ctx): void => {
        const timeoutMs = o.timeout ?? defaults.timeoutMs;
        const intervalMs = o.interval ?? defaults.intervalMs;
        if (timeoutMs === undefined || intervalMs === undefined || (o.timeout === undefined && o.interval === undefined)) return;
        if (timeoutMs < intervalMs) return;
        const at = o.timeout !== undefined ? 'timeout' : 'interval';
        const hint = at === 'interval' ? ' (the timeout is inherited: set a shorter timeout next to this interval)' : '';
        report(ctx, 'conflict', `timeout (${formatDuration(timeoutMs)}) must be shorter than interval (${formatDuration(intervalMs)}): a check never overlaps itself${hint}`, [at]);
      },
      when: needs('timeout', 'interval'),
    },
    fastInterval: {
      rule: (o: PolicyOverrides, ctx: Ctx): void => {
        const fastMs = o.fast_interval ?? defaults.fastIntervalMs;
        const intervalMs = o.interval ?? defaults.intervalMs;
        if (fastMs === undefined || intervalMs === undefined || (o.fast_interval === undefined && o.interval === undefined)) return;
        if (fastMs <= intervalMs) return;
        const at = o.fast_interval !== undefined ? 'fast_interval' : 'interval';
        report(ctx, 'conflict', `fast_interval (${formatDuration(fastMs)}) must not be longer than interval (${formatDuration(intervalMs)})`, [at]);
      },
      when: needs('fast_interval', 'interval'),
    },
  };
}

const healthRules = timingRules(DEFAULT_POLICY);

/** The `health:` section: defaults for every VIP. */
export const healthSection = z
  .strictObject(policyShape)
  .superRefine(healthRules.timeout.rule, { when: healthRules.timeout.when })
  .superRefine(healthRules.fastInterval.rule, { when: healthRules.fastInterval.when })
  .prefault({})
  .transform((o) => applyPolicy(DEFAULT_POLICY, o));

const POLICY_KEYS = [
  ['interval', 'intervalMs'],
  ['fast_interval', 'fastIntervalMs'],
  ['timeout', 'timeoutMs'],
  ['rise', 'rise'],
  ['fall', 'fall'],
  ['jitter', 'jitter'],
] as const satisfies ReadonlyArray<readonly [keyof typeof policyShape, keyof HealthPolicy]>;

/**
 * The defaults the VIPs inherit, also when `health:` is invalid: each key that parsed on its
 * own (or its default when absent), so a bad `health.jitter` does not silence the VIPs' timing
 * rules. Undefined keys are unknown.
 */
export function policyDefaults(raw: unknown): PolicyDefaults {
  const whole = healthSection.safeParse(raw);
  if (whole.success) return whole.data;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
  const given = raw as Record<string, unknown>;
  const out: PolicyDefaults = {};
  for (const [key, field] of POLICY_KEYS) {
    const r = policyShape[key].safeParse(given[key]);
    if (r.success) out[field] = r.data ?? DEFAULT_POLICY[field];
  }
  return out;
}
