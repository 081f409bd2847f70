/**
 * Rise/fall, fast_interval, jitter, require and reload semantics of the health engine, with a
 * fake clock and scripted checks (no network): every timing below is exact.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HealthEngine, type VipHealth } from '../../src/health/engine.js';
import { PASSIVE_SETTLE_MS } from '../../src/health/runner.js';
import { combine, initialState, step } from '../../src/health/hysteresis.js';
import { silentLogger } from '../../src/log/logger.js';
import { FakeClock } from './helpers/fake-clock.js';
import { scriptedFactory, Target } from './helpers/scripted.js';
import { tcpSpec, vip } from './helpers/vip.js';
import type { VipConfig } from '../../src/config/types.js';
import type { HealthPolicy } from '../../src/health/types.js';

interface Rig {
  clock: FakeClock;
  engine: HealthEngine;
  targets: Map<string, Target>;
  transitions: Array<{ at: number; h: VipHealth }>;
  t0: number;
}

let rig: Rig | undefined;

afterEach(async () => {
  if (rig) {
    const stopping = rig.engine.stop();
    await rig.clock.advance(1_000);
    await stopping;
  }
  rig = undefined;
});

function target(label: string, targets: Map<string, Target>): Target {
  const t = new Target();
  targets.set(label, t);
  return t;
}

function spec(n: number) {
  return tcpSpec('127.0.0.1', 1000 + n);
}

function setup(vips: VipConfig[], targets: Map<string, Target>, random: () => number = () => 0): Rig {
  const clock = new FakeClock();
  const engine = new HealthEngine(vips, { logger: silentLogger, clock, random, createChecker: scriptedFactory(targets) });
  const transitions: Rig['transitions'] = [];
  engine.onTransition((h) => transitions.push({ at: clock.now(), h }));
  rig = { clock, engine, targets, transitions, t0: clock.now() };
  return rig;
}

function oneVip(over: Partial<HealthPolicy> = {}): { r: Rig; t: Target } {
  const targets = new Map<string, Target>();
  const t = target(spec(1).label, targets);
  const r = setup([vip('web', [spec(1)], over)], targets);
  return { r, t };
}

describe('hysteresis (pure)', () => {
  it('needs rise passes to go up and fall failures to go down; a contrary result resets the streak', () => {
    let s = initialState;
    s = step(s, true, 2, 3).state;
    expect(s.healthy).toBe(false);
    const up = step(s, true, 2, 3);
    expect(up.transitioned).toBe(true);
    s = up.state;
    s = step(s, false, 2, 3).state;
    s = step(s, false, 2, 3).state;
    s = step(s, true, 2, 3).state; // streak broken
    expect(s.failures).toBe(0);
    s = step(s, false, 2, 3).state;
    s = step(s, false, 2, 3).state;
    expect(s.healthy).toBe(true);
    expect(step(s, false, 2, 3).transitioned).toBe(true);
  });

  it('combines all / any / k-of-n, and never passes on checks that have not run', () => {
    expect(combine([true, true, true], 'all')).toBe(true);
    expect(combine([true, false, true], 'all')).toBe(false);
    expect(combine([true, undefined], 'all')).toBe(false);
    expect(combine([], 'all')).toBe(false);
    expect(combine([false, false, true], 'any')).toBe(true);
    expect(combine([false, undefined], 'any')).toBe(false);
    expect(combine([true, false, true], 2)).toBe(true);
    expect(combine([true, false, false], 2)).toBe(false);
  });
});

describe('engine schedule (fake clock)', () => {
  it('starts down "starting" and comes up after rise rounds at fast_interval', async () => {
    const { r, t } = oneVip({ rise: 3, fastIntervalMs: 500, intervalMs: 2_000 });
    r.engine.start();
    expect(r.engine.status('web')).toMatchObject({ healthy: false, reason: 'starting', lastDetector: 'initial' });
    await r.clock.advance(0);
    expect(t.runs).toBe(1);
    expect(r.engine.status('web')?.reason).toBe('rising 1/3');
    await r.clock.advance(499);
    expect(t.runs).toBe(1);
    await r.clock.advance(501);
    expect(t.runs).toBe(3);
    expect(r.transitions).toHaveLength(1);
    expect(r.transitions[0]!.at - r.t0).toBe(1_000); // (rise - 1) × fast_interval
    expect(r.transitions[0]!.h).toMatchObject({ healthy: true, reason: 'ok', lastDetector: 'initial' });
    // Settled: back to the normal interval.
    await r.clock.advance(1_999);
    expect(t.runs).toBe(3);
    await r.clock.advance(1);
    expect(t.runs).toBe(4);
  });

  it('a failing start settles down at once and moves to the normal interval', async () => {
    const { r, t } = oneVip({ fastIntervalMs: 500, intervalMs: 2_000 });
    t.up = false;
    r.engine.start();
    await r.clock.advance(0);
    expect(r.engine.status('web')).toMatchObject({ healthy: false, reason: `${spec(1).label}: refused` });
    await r.clock.advance(1_999);
    expect(t.runs).toBe(1);
    await r.clock.advance(1);
    expect(t.runs).toBe(2);
    expect(r.transitions).toHaveLength(0);
  });

  it('goes down after fall failures, checking at fast_interval once the first failure is seen', async () => {
    const { r, t } = oneVip({ rise: 1, fall: 3, fastIntervalMs: 300, intervalMs: 5_000 });
    r.engine.start();
    await r.clock.advance(0);
    expect(r.engine.status('web')?.healthy).toBe(true);
    t.up = false;
    await r.clock.advance(5_000); // first failure at t=5000
    expect(r.engine.status('web')).toMatchObject({ healthy: true });
    expect(r.engine.status('web')?.reason).toMatch(/^ok, failing 1\/3/);
    await r.clock.advance(300);
    expect(r.engine.status('web')?.healthy).toBe(true);
    await r.clock.advance(300);
    expect(r.transitions.map((x) => [x.at - r.t0, x.h.healthy])).toEqual([
      [0, true],
      [5_600, false],
    ]);
    expect(r.transitions[1]!.h).toMatchObject({ lastDetector: 'periodic', reason: `${spec(1).label}: refused` });
    expect(r.engine.status('web')?.since.getTime()).toBe(r.t0 + 5_600);
  });

  it('a pass in the middle of a failure streak starts it over', async () => {
    const { r, t } = oneVip({ rise: 1, fall: 2, fastIntervalMs: 300, intervalMs: 5_000 });
    r.engine.start();
    await r.clock.advance(0);
    t.up = false;
    await r.clock.advance(5_000); // failure 1
    t.up = true;
    await r.clock.advance(300); // pass: streak reset, settled, next at interval
    t.up = false;
    await r.clock.advance(300);
    expect(r.engine.status('web')?.healthy).toBe(true);
    expect(t.runs).toBe(3);
    await r.clock.advance(4_700); // t=10300: failure 1
    await r.clock.advance(300); // failure 2: down
    expect(r.transitions.map((x) => x.at - r.t0)).toEqual([0, 10_600]);
  });

  it('jitters the interval by ±jitter and only lengthens fast_interval', async () => {
    const targets = new Map<string, Target>();
    const t = target(spec(1).label, targets);
    let rnd = 0.999;
    const r = setup([vip('web', [spec(1)], { rise: 2, fastIntervalMs: 500, intervalMs: 1_000, jitter: 0.2 })], targets, () => rnd);
    r.engine.start();
    await r.clock.advance(100); // first round spread: 0.999 × 0.2 × 500 ≈ 99.9 ms; pass 1/2
    expect(t.runs).toBe(1);
    await r.clock.advance(599); // fast × (1 + 0.2 × 0.999) ≈ 599.9 later: not yet
    expect(t.runs).toBe(1);
    await r.clock.advance(1);
    expect(t.runs).toBe(2); // up; next delay: 1000 × (1 + 0.2 × (2 × 0.999 - 1)) ≈ 1199.6
    rnd = 0;
    await r.clock.advance(1_199);
    expect(t.runs).toBe(2);
    await r.clock.advance(1);
    expect(t.runs).toBe(3); // next: 1000 × 0.8
    await r.clock.advance(799);
    expect(t.runs).toBe(3);
    await r.clock.advance(1);
    expect(t.runs).toBe(4);
  });

  it('spreads first rounds of many VIPs over jitter × fast_interval', async () => {
    const targets = new Map<string, Target>();
    const vips = Array.from({ length: 10 }, (_, i) => {
      target(spec(i).label, targets);
      return vip(`v${i}`, [spec(i)], { fastIntervalMs: 1_000, jitter: 0.5 });
    });
    let i = 0;
    const r = setup(vips, targets, () => (i++ % 10) / 10);
    r.engine.start();
    await r.clock.advance(0);
    expect([...targets.values()].filter((t) => t.runs > 0)).toHaveLength(1);
    await r.clock.advance(450);
    expect([...targets.values()].filter((t) => t.runs > 0)).toHaveLength(10);
  });

  it.each([
    ['all', [true, true, false], false],
    ['all', [true, true, true], true],
    ['any', [false, false, true], true],
    ['any', [false, false, false], false],
    [2, [true, false, true], true],
    [2, [false, false, true], false],
  ] as const)('require %s with %j is %s', async (require, ups, expected) => {
    const targets = new Map<string, Target>();
    const specs = ups.map((up, i) => {
      target(spec(i).label, targets).up = up;
      return spec(i);
    });
    const r = setup([vip('web', specs, { rise: 1 }, require)], targets);
    r.engine.start();
    await r.clock.advance(0);
    expect(r.engine.status('web')?.healthy).toBe(expected);
    expect(r.engine.status('web')?.checks.map((c) => c.ok)).toEqual([...ups]);
  });

  it('update() keeps unchanged VIPs, restarts changed ones from their health, stops removed ones, starts new ones', async () => {
    const targets = new Map<string, Target>();
    for (let i = 0; i < 4; i++) target(spec(i).label, targets);
    const a = vip('a', [spec(0)], { rise: 1, intervalMs: 1_000 });
    const b = vip('b', [spec(1)], { rise: 1, intervalMs: 1_000 });
    const c = vip('c', [spec(2)], { rise: 1, intervalMs: 1_000 });
    const r = setup([a, b, c], targets);
    r.engine.start();
    await r.clock.advance(500);
    const sinceA = r.engine.status('a')?.since.getTime();
    const runsA = targets.get(spec(0).label)!.runs;
    // a: same checks in a fresh object (key order shuffled); b: another check; c: removed; d: new.
    const a2 = { ...a, checks: [{ passive: true, port: 1000, host: '127.0.0.1', label: spec(0).label, type: 'tcp' as const }] };
    const b2 = vip('b', [spec(3)], { rise: 1, intervalMs: 1_000 });
    const d = vip('d', [spec(2)], { rise: 1, intervalMs: 1_000 });
    r.engine.update([a2, b2, d]);
    expect(r.engine.status('a')).toMatchObject({ healthy: true });
    expect(r.engine.status('a')?.since.getTime()).toBe(sinceA);
    const sinceB = r.transitions.find((x) => x.h.name === 'b')!.h.since.getTime();
    // b's checks changed: a new runner, but the VIP stays up (no withdraw on a check edit).
    expect(r.engine.status('b')).toMatchObject({ healthy: true, reason: 'ok, checks changed: first run pending' });
    expect(r.engine.status('b')?.since.getTime()).toBe(sinceB);
    expect(r.engine.status('c')).toBeUndefined();
    expect(r.engine.status('d')).toMatchObject({ healthy: false, reason: 'starting' });
    expect(targets.get(spec(0).label)!.runs).toBe(runsA); // a's timer was not reset to "now"
    await r.clock.advance(500);
    expect(targets.get(spec(0).label)!.runs).toBe(runsA + 1); // ...it fired on its old schedule
    expect(r.engine.all().map((h) => [h.name, h.healthy]).sort()).toEqual([
      ['a', true],
      ['b', true],
      ['d', true],
    ]);
    expect(r.transitions.filter((x) => x.h.name === 'a')).toHaveLength(1);
    expect(r.transitions.filter((x) => x.h.name === 'b')).toHaveLength(1); // only the first rise
  });

  it('update() changing an up VIP\'s checks: the new checks run at once and take fall failures to withdraw it', async () => {
    const targets = new Map<string, Target>();
    target(spec(0).label, targets);
    const t1 = target(spec(1).label, targets);
    t1.up = false;
    const r = setup([vip('web', [spec(0)], { rise: 1, fall: 2, intervalMs: 10_000, fastIntervalMs: 500 })], targets);
    r.engine.start();
    await r.clock.advance(0);
    expect(r.engine.status('web')?.healthy).toBe(true);
    r.engine.update([vip('web', [spec(1)], { rise: 1, fall: 2, intervalMs: 10_000, fastIntervalMs: 500 })]);
    await r.clock.advance(0);
    // First failure of the new check: still up (fall 2), and no transition.
    expect(t1.runs).toBe(1);
    expect(r.engine.status('web')).toMatchObject({ healthy: true });
    expect(r.transitions).toHaveLength(1);
    await r.clock.advance(500);
    expect(t1.runs).toBe(2);
    expect(r.engine.status('web')?.healthy).toBe(false);
    expect(r.transitions.map((x) => x.h.healthy)).toEqual([true, false]);
  });

  it('update() changing a down VIP\'s checks: it stays down until rise passes of the new checks', async () => {
    const targets = new Map<string, Target>();
    target(spec(0).label, targets).up = false;
    const t1 = target(spec(1).label, targets);
    const r = setup([vip('web', [spec(0)], { rise: 2, fall: 1, intervalMs: 10_000, fastIntervalMs: 500 })], targets);
    r.engine.start();
    await r.clock.advance(0);
    expect(r.engine.status('web')?.healthy).toBe(false);
    r.engine.update([vip('web', [spec(1)], { rise: 2, fall: 1, intervalMs: 10_000, fastIntervalMs: 500 })]);
    await r.clock.advance(0);
    expect(t1.runs).toBe(1);
    expect(r.engine.status('web')).toMatchObject({ healthy: false, reason: 'rising 1/2' });
    await r.clock.advance(500);
    expect(r.engine.status('web')?.healthy).toBe(true);
    expect(r.transitions.map((x) => x.h.healthy)).toEqual([true]);
  });

  it('update() with only a new policy keeps the state and uses the new timing', async () => {
    const { r, t } = oneVip({ rise: 1, intervalMs: 10_000 });
    r.engine.start();
    await r.clock.advance(0);
    const vips = [vip('web', [spec(1)], { rise: 1, intervalMs: 1_000 })];
    r.engine.update(vips);
    await r.clock.advance(1_000);
    expect(t.runs).toBe(2);
    expect(r.engine.status('web')?.healthy).toBe(true);
    expect(r.transitions).toHaveLength(1);
  });
});

describe('liveness (stalled, lastRoundAt)', () => {
  it('never stalls while rounds complete, even with the longest timeout and jitter the config allows', async () => {
    const targets = new Map<string, Target>();
    const slow = target(spec(0).label, targets);
    const r = setup([vip('web', [spec(0)], { rise: 1, intervalMs: 1_000, fastIntervalMs: 1_000, timeoutMs: 999, jitter: 0.5 })], targets, () => 0.999);
    // Each run answers just inside its timeout: rounds end as late as they can.
    slow.delayMs = 990;
    slow.clock = r.clock;
    r.engine.start();
    for (let i = 0; i < 60; i++) {
      await r.clock.advance(500);
      expect(r.engine.stalled()).toBeUndefined();
    }
    expect(slow.runs).toBeGreaterThanOrEqual(11); // a round every ~2.5 s: 1.5 s interval (jitter 50%) + 0.99 s run
    expect(r.clock.now() - r.engine.lastRoundAt()).toBeLessThanOrEqual(1_500 + 999);
  });

  it('a check hanging despite its timeout stalls the loop, naming the VIP and the check', async () => {
    const { r, t } = oneVip({ rise: 1, intervalMs: 1_000, fastIntervalMs: 500, timeoutMs: 200 });
    r.engine.start();
    await r.clock.advance(3_000);
    expect(r.engine.stalled()).toBeUndefined();
    t.hang = true;
    await r.clock.advance(1_000); // the hung run starts; the timeout reports it down
    await r.clock.advance(500);
    expect(r.engine.status('web')?.checks[0]).toMatchObject({ ok: false, code: 'TIMEOUT' });
    await r.clock.advance(5_000);
    // Later rounds do not start it again: it is reported stuck, and the engine says why.
    expect(t.runs).toBeLessThan(6);
    expect(r.engine.status('web')?.checks[0]).toMatchObject({ ok: false, code: 'STUCK' });
    expect(r.engine.status('web')?.healthy).toBe(false);
    expect(r.engine.stalled()).toMatch(/^VIP web: check .* still running \d+ ms after it started \(timeout 200 ms\)$/);
  });

  it('no VIPs: never stalled', async () => {
    const r = setup([], new Map());
    r.engine.start();
    await r.clock.advance(5_000);
    expect(r.engine.stalled()).toBeUndefined();
  });
});

describe('passive events (fake clock)', () => {
  it('re-checks at once, then at fast_interval until fall settles; the detector is passive', async () => {
    const { r, t } = oneVip({ rise: 1, fall: 2, fastIntervalMs: 300, intervalMs: 10_000 });
    r.engine.start();
    await r.clock.advance(0);
    await r.clock.advance(4_000);
    t.up = false;
    t.drop();
    await r.clock.advance(PASSIVE_SETTLE_MS - 1);
    expect(t.runs).toBe(1);
    await r.clock.advance(1);
    expect(t.runs).toBe(2); // re-checked as soon as the teardown settled
    expect(r.engine.status('web')?.checks[0]).toMatchObject({ ok: false });
    expect(r.engine.status('web')?.healthy).toBe(true); // fall is 2: not yet
    await r.clock.advance(299);
    expect(r.engine.status('web')?.healthy).toBe(true);
    await r.clock.advance(1);
    expect(r.engine.status('web')).toMatchObject({ healthy: false, lastDetector: 'passive' });
    expect(r.transitions.at(-1)!.at - r.t0).toBe(4_000 + PASSIVE_SETTLE_MS + 300);
  });

  it('cannot flap faster than min(rise, fall) × fast_interval, whatever the events', async () => {
    const { r, t } = oneVip({ rise: 2, fall: 2, fastIntervalMs: 300, intervalMs: 10_000 });
    r.engine.start();
    await r.clock.advance(1_000);
    // A target that changes state at random and drops its connection every 10 ms for 20 s.
    let seed = 12345;
    for (let i = 0; i < 2_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      t.up = ((seed >> 16) & 1) === 1;
      t.drop();
      await r.clock.advance(10);
    }
    const at = r.transitions.map((x) => x.at);
    expect(at.length).toBeGreaterThan(5);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(2 * 300);
    // And no more than one run per fast_interval-ish on average (no spinning).
    expect(t.runs).toBeLessThan(20_000 / 300 + 10);
  });

  it('an event during a round is handled after it, no overlap', async () => {
    const targets = new Map<string, Target>();
    const t = target(spec(1).label, targets);
    const r = setup([vip('web', [spec(1)], { rise: 1, fall: 1, fastIntervalMs: 300, intervalMs: 10_000, timeoutMs: 100 })], targets);
    r.engine.start();
    await r.clock.advance(0);
    expect(r.engine.status('web')?.healthy).toBe(true);
    await r.clock.advance(5_000);
    t.up = false;
    t.drop();
    t.drop(); // a second event for the same drop adds no run
    await r.clock.advance(PASSIVE_SETTLE_MS);
    expect(r.engine.status('web')).toMatchObject({ healthy: false, lastDetector: 'passive' });
    const runs = t.runs;
    t.up = true;
    t.drop();
    await r.clock.advance(299); // the flip was just now: no evaluation before fast_interval
    expect(t.runs).toBe(runs);
    await r.clock.advance(1);
    expect(t.runs).toBe(runs + 1);
    expect(r.engine.status('web')?.healthy).toBe(true);
  });
});
