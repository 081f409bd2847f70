/** Run one round of a single check through a real engine and return its result. */
import { HealthEngine } from '../../../src/health/engine.js';
import type { CheckResult, CheckSpec, HealthPolicy } from '../../../src/health/types.js';
import { silentLogger } from '../../../src/log/logger.js';
import { vip } from './vip.js';

export async function checkOnce(spec: CheckSpec, over: Partial<HealthPolicy> = {}): Promise<CheckResult> {
  let resolveResult: (r: CheckResult) => void = () => undefined;
  const first = new Promise<CheckResult>((resolve) => (resolveResult = resolve));
  // Long intervals: only the first round runs.
  const engine = new HealthEngine([vip('once', [spec], { intervalMs: 600_000, fastIntervalMs: 600_000, ...over })], {
    logger: silentLogger,
    onCheckResult: (_vip, _check, result) => resolveResult(result),
  });
  engine.start();
  try {
    return await first;
  } finally {
    await engine.stop();
  }
}
