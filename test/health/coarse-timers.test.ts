/**
 * CoarseTimers: periodic rounds rounded up to a grid, one underlying timer for the earliest slot, never
 * early; and the engine's rounds on that grid still keep interval and fast_interval as lower
 * bounds (the anti-flap rule).
 */
import { describe, expect, it } from 'vitest';
import { CoarseTimers } from '../../src/health/coarse-timers.js';
import { HealthEngine } from '../../src/health/engine.js';
import { silentLogger } from '../../src/log/logger.js';
import { FakeClock } from './helpers/fake-clock.js';
import { scriptedFactory, Target } from './helpers/scripted.js';
import { vip } from './helpers/vip.js';

describe('CoarseTimers', () => {
  it('fires on the next grid point, never before, in arming order; one real timer, for the earliest slot', async () => {
    const clock = new FakeClock(1_000_003);
    const timers = new CoarseTimers(clock, 10);
    const fired: Array<[string, number]> = [];
    timers.setTimeout(() => fired.push(['d', clock.now()]), 8);
    timers.setTimeout(() => fired.push(['a', clock.now()]), 0);
    timers.setTimeout(() => fired.push(['b', clock.now()]), 5);
    timers.setTimeout(() => fired.push(['c', clock.now()]), 7);
    expect(clock.pending).toBe(1); // slots 1,000,010 (a, b, c) and 1,000,020 (d): one wake-up set, for the first
    await clock.advance(100);
    expect(fired).toEqual([['a', 1_000_010], ['b', 1_000_010], ['c', 1_000_010], ['d', 1_000_020]]);
    expect(clock.pending).toBe(0);
  });

  it('a cleared timer never fires; emptying every slot leaves no wake-up that fires anything', async () => {
    const clock = new FakeClock(0);
    const timers = new CoarseTimers(clock, 10);
    const fired: string[] = [];
    const a = timers.setTimeout(() => fired.push('a'), 3);
    const b = timers.setTimeout(() => fired.push('b'), 4);
    timers.setTimeout(() => timers.clearTimeout(b), 25);
    timers.clearTimeout(a);
    const c = timers.setTimeout(() => fired.push('c'), 21);
    // c and the clearing timer share slot 30: clearing c leaves the slot.
    timers.clearTimeout(c);
    await clock.advance(100);
    expect(fired).toEqual(['b']);
    expect(timers.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('a reusable timer re-armed moves to its new slot and fires once per arm', async () => {
    const clock = new FakeClock(0);
    const timers = new CoarseTimers(clock, 10);
    const fired: number[] = [];
    const t = timers.timer(() => fired.push(clock.now()));
    t.arm(500);
    t.arm(15); // replaces the 500 ms arm
    expect(timers.size).toBe(1);
    await clock.advance(100);
    expect(fired).toEqual([20]);
    t.arm(40);
    t.cancel();
    t.cancel(); // idempotent
    t.arm(5);
    await clock.advance(1_000);
    expect(fired).toEqual([20, 110]);
    expect(timers.size).toBe(0);
  });

  it('a timer armed while its slot fires waits for the next wake-up, even for the same grid point; one cancelled meanwhile does not fire', async () => {
    const clock = new FakeClock(0);
    const timers = new CoarseTimers(clock, 10);
    const fired: Array<[string, number]> = [];
    let again = 0;
    const loop = timers.timer(() => {
      fired.push(['loop', clock.now()]);
      if (++again < 3) loop.arm(0);
    });
    const victim = timers.timer(() => fired.push(['victim', clock.now()]));
    timers.setTimeout(() => victim.cancel(), 1);
    loop.arm(1);
    victim.arm(2);
    await clock.advance(100);
    // Each re-arm at the grid point itself fires on a later wake-up (the fake clock fires it at
    // the same instant), never inside the firing that armed it: no unbounded loop.
    expect(fired).toEqual([['loop', 10], ['loop', 10], ['loop', 10]]);
    expect(timers.size).toBe(0);
  });

  it('a clock that fires late runs every slot that fell due, in grid order', async () => {
    const clock = new FakeClock(0);
    const timers = new CoarseTimers(clock, 10);
    const fired: string[] = [];
    timers.setTimeout(() => fired.push('30'), 25);
    timers.setTimeout(() => fired.push('10'), 5);
    timers.setTimeout(() => fired.push('20'), 15);
    await clock.advance(1_000);
    expect(fired).toEqual(['10', '20', '30']);
  });
});

describe('engine rounds on a 10 ms grid', () => {
  it('are never sooner than interval (fast_interval while pending) after the previous one', async () => {
    const clock = new FakeClock(1_000_003);
    const targets = new Map([['t', new Target()]]);
    const runs: number[] = [];
    const factory = scriptedFactory(targets);
    const engine = new HealthEngine([vip('v', [{ type: 'tcp', label: 't', host: 't', port: 1, passive: false }], { intervalMs: 1_003, fastIntervalMs: 497, rise: 2, fall: 2, jitter: 0 })], {
      logger: silentLogger,
      clock,
      roundQuantumMs: 10,
      createChecker: factory,
      onCheckResult: () => runs.push(clock.now()),
    });
    engine.start();
    await clock.advance(10_000);
    await engine.stop();
    expect(runs.length).toBeGreaterThan(8);
    for (const at of runs) expect(at % 10).toBe(0);
    // First gap is fast_interval (rising), then interval.
    const gaps = runs.slice(1).map((t, i) => t - runs[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(497);
    for (const gap of gaps.slice(1)) expect(gap).toBeGreaterThanOrEqual(1_003);
    for (const gap of gaps) expect(gap).toBeLessThan(1_003 + 10 + 1);
  });
});
