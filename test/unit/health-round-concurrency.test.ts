/**
 * Issue 2, health engine: "checks of one VIP run concurrently and a check never overlaps
 * itself". Fake clock and scripted checks (test/health/helpers), so every instant is exact.
 */
import { describe, expect, it } from 'vitest';
import { HealthEngine } from '../../src/health/engine.js';
import type { CheckResult } from '../../src/health/types.js';
import { silentLogger } from '../../src/log/logger.js';
import { FakeClock } from '../health/helpers/fake-clock.js';
import { scriptedFactory, Target } from '../health/helpers/scripted.js';
import { tcpSpec, vip } from '../health/helpers/vip.js';

function rig() {
  const clock = new FakeClock();
  const a = tcpSpec('127.0.0.1', 1001);
  const b = tcpSpec('127.0.0.1', 1002);
  const targets = new Map([
    [a.label, new Target()],
    [b.label, new Target()],
  ]);
  const results: Array<{ check: string; at: number; result: CheckResult }> = [];
  const engine = new HealthEngine([vip('web', [a, b], { intervalMs: 2_000, fastIntervalMs: 500, timeoutMs: 1_000, rise: 1, fall: 1, jitter: 0 })], {
    logger: silentLogger,
    clock,
    random: () => 0,
    createChecker: scriptedFactory(targets),
    onCheckResult: (_vip, check, result) => results.push({ check, at: clock.now(), result }),
  });
  return { clock, engine, a: a.label, ta: targets.get(a.label)!, tb: targets.get(b.label)!, results, t0: clock.now() };
}

describe('one VIP, two checks', () => {
  it('run concurrently: both are in flight at once and both time out together, not one after the other', async () => {
    const { clock, engine, ta, tb, results, t0 } = rig();
    ta.hang = true;
    tb.hang = true;
    engine.start();
    await clock.advance(0);
    // Neither has answered, yet both have started: the round did not wait for the first.
    expect([ta.runs, tb.runs]).toEqual([1, 1]);
    await clock.advance(1_500);
    expect(results.map((r) => r.result.code)).toEqual(['TIMEOUT', 'TIMEOUT']);
    const times = results.map((r) => r.at - t0);
    // One timeout plus the abort grace for both: sequential runs would need twice that.
    expect(Math.max(...times)).toBeLessThan(2 * 1_000);
    const stopping = engine.stop();
    await clock.advance(1_000);
    await stopping;
  });

  it('a check that has not settled is never started again (no overlap), while the other keeps its schedule', async () => {
    const { clock, engine, a, ta, tb, results } = rig();
    ta.hang = true; // ignores its timeout's abort: stays in flight
    engine.start();
    await clock.advance(0);
    for (let i = 0; i < 5; i++) await clock.advance(2_000);
    expect(ta.runs).toBe(1);
    expect(tb.runs).toBeGreaterThanOrEqual(5);
    const codes = results.filter((r) => r.check === a).map((r) => r.result.code);
    expect(codes[0]).toBe('TIMEOUT');
    expect(codes.length).toBeGreaterThanOrEqual(4);
    expect(codes.slice(1).every((c) => c === 'STUCK')).toBe(true);
    const stopping = engine.stop();
    await clock.advance(1_000);
    await stopping;
  });
});

