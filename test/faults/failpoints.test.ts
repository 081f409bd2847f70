/**
 * The fail points of src/health/failpoints.ts: the VIPCAST_FAILPOINTS grammar (every malformed
 * term an error with code FAILPOINT_INVALID that names it) and `health-loop-hang` on the real
 * HealthEngine with a fake clock: rounds stop, liveness (lastRoundAt) freezes, held work is
 * delivered on release, and stop() is not hung by it. The end-to-end effect at a router is in
 * health-loop-hang.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthEngine } from '../../src/health/engine.js';
import { FAILPOINT_INVALID, FailpointError, hangGate, parseFailpoints, type Failpoint } from '../../src/health/failpoints.js';
import { ok, type Checker, type Outcome } from '../../src/health/checks/types.js';
import { silentLogger } from '../../src/log/logger.js';
import { FakeClock } from '../health/helpers/fake-clock.js';
import { scriptedFactory, Target } from '../health/helpers/scripted.js';
import { tcpSpec, vip } from '../health/helpers/vip.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { hasBuild, VipcastProcess } from '../harness/vipcast.js';
import { waitFor } from '../harness/wait.js';

describe('VIPCAST_FAILPOINTS grammar', () => {
  it('unset or blank: no fail points (the engine wires nothing)', () => {
    expect(parseFailpoints(undefined)).toEqual([]);
    expect(parseFailpoints('')).toEqual([]);
    expect(parseFailpoints('  ')).toEqual([]);
    expect(hangGate([], silentLogger)).toBeUndefined();
  });

  it('delay, delay+duration, file trigger', () => {
    expect(parseFailpoints('health-loop-hang@5s')).toEqual([{ name: 'health-loop-hang', trigger: { kind: 'after', afterMs: 5_000 } }]);
    expect(parseFailpoints(' health-loop-hang@1m30s+500ms ;')).toEqual([{ name: 'health-loop-hang', trigger: { kind: 'after', afterMs: 90_000, forMs: 500 } }]);
    expect(parseFailpoints('health-loop-hang@0s')).toEqual([{ name: 'health-loop-hang', trigger: { kind: 'after', afterMs: 0 } }]);
    expect(parseFailpoints('health-loop-hang@file:/run/x y')).toEqual([{ name: 'health-loop-hang', trigger: { kind: 'file', path: '/run/x y' } }]);
  });

  it.each([
    ['health-loop-hang', 'has no trigger'],
    ['health-loop-stall@5s', 'unknown fail point "health-loop-stall"'],
    ['@5s', 'unknown fail point ""'],
    ['health-loop-hang@5', 'needs a unit'],
    ['health-loop-hang@', 'empty duration'],
    ['health-loop-hang@soon', 'invalid duration'],
    ['health-loop-hang@5s+', 'empty duration'],
    ['health-loop-hang@5s+0s', 'zero duration'],
    ['health-loop-hang@5s+1s+1s', 'at most one'],
    ['health-loop-hang@file:relative/path', 'absolute path'],
    ['health-loop-hang@1s;health-loop-hang@2s', 'given twice'],
  ])('%s: an error naming the problem', (text, fragment) => {
    let caught: unknown;
    try {
      parseFailpoints(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FailpointError);
    const err = caught as FailpointError;
    expect(err.code).toBe(FAILPOINT_INVALID);
    expect(err.message).toContain('VIPCAST_FAILPOINTS');
    expect(err.message).toContain(fragment);
  });

  it('the engine refuses a malformed value at construction', () => {
    const saved = process.env.VIPCAST_FAILPOINTS;
    process.env.VIPCAST_FAILPOINTS = 'health-loop-hang@later';
    try {
      expect(() => new HealthEngine([], { logger: silentLogger })).toThrow(/VIPCAST_FAILPOINTS: "health-loop-hang@later": invalid duration/);
    } finally {
      if (saved === undefined) delete process.env.VIPCAST_FAILPOINTS;
      else process.env.VIPCAST_FAILPOINTS = saved;
    }
  });
});

describe.skipIf(!hasBuild())('a malformed VIPCAST_FAILPOINTS through the real CLI', () => {
  it('vipcast run refuses to start, exit 1, the message names the term and the problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-failpoint-cli-'));
    try {
      const config = join(dir, 'vipcast.yaml');
      await writeFile(
        config,
        `bgp: { local_as: 65001, router_id: 10.0.0.1, neighbors: [{ address: ${loopbackAddress()}, port: ${await freePort()}, remote_as: 65000 }] }
vips: [{ name: web, prefix: 192.0.2.1/32, checks: [{ type: exec, command: ["/usr/bin/true"] }] }]
admin: { listen: "127.0.0.1:${await freePort()}" }
`,
      );
      const v = new VipcastProcess(['run', '--config', config], { VIPCAST_FAILPOINTS: 'health-loop-hang@5' });
      const { code } = await v.waitExit(20_000);
      expect(code).toBe(1);
      expect(v.output.split('\n')[0]).toBe(
        'vipcast: FailpointError: VIPCAST_FAILPOINTS: "health-loop-hang@5": duration "5" needs a unit, e.g. "5s" or "5ms" (fault testing only; syntax NAME@DURATION[+DURATION] or NAME@file:PATH, names: health-loop-hang)',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('the gate around a checker', () => {
  /** A checker as the real ones are written: a class with #private state and start(). */
  class PrivateChecker {
    readonly spec = tcpSpec('127.0.0.1', 1003);
    #runs = 0;
    run(): Promise<Outcome> {
      this.#runs++;
      return Promise.resolve(ok());
    }
    start(done: (o: Outcome) => void): { cancel(): void } {
      this.#runs++;
      done(ok('started'));
      return { cancel: () => undefined };
    }
    /** Not part of Checker today: must still reach the real object. */
    runs(): number {
      return this.#runs;
    }
  }

  it('holds start() results while hung, delivers them on release; unknown members reach the real checker', async () => {
    const gate = hangGate(parseFailpoints('health-loop-hang@1s'), silentLogger)!;
    const inner = new PrivateChecker();
    const gated = gate.checkers(() => inner)(inner.spec, 100) as Checker & { runs(): number };
    const got: string[] = [];
    gated.start!((o) => got.push(o.reason), 100);
    expect(got).toEqual(['started']);
    gate.hang();
    gated.start!((o) => got.push(o.reason), 100);
    const ran = gated.run(new AbortController().signal, 100).then((o) => got.push(o.reason));
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(['started']);
    gate.release();
    await ran;
    expect(got).toEqual(['started', 'started', 'ok']);
    expect(gated.runs()).toBe(3);
    expect(gated.spec).toBe(inner.spec);
  });
});

describe('health-loop-hang on the engine (fake clock)', () => {
  let engine: HealthEngine | undefined;
  let clock: FakeClock;
  afterEach(async () => {
    const stopping = engine?.stop();
    await clock.advance(2_000);
    await stopping;
    engine = undefined;
  });

  function start(failpoints: Failpoint[]): Target {
    clock = new FakeClock();
    const targets = new Map<string, Target>();
    const t = new Target();
    const spec = tcpSpec('127.0.0.1', 1001);
    targets.set(spec.label, t);
    engine = new HealthEngine([vip('web', [spec], { rise: 1, fall: 1, intervalMs: 200, fastIntervalMs: 100, timeoutMs: 150 })], {
      logger: silentLogger,
      clock,
      random: () => 0,
      createChecker: scriptedFactory(targets),
      failpoints,
    });
    engine.start();
    return t;
  }

  it('from 2 s for 5 s: no check runs, lastRoundAt freezes, the VIP keeps its last state; then rounds resume', async () => {
    const t = start([{ name: 'health-loop-hang', trigger: { kind: 'after', afterMs: 2_000, forMs: 5_000 } }]);
    await clock.advance(1_900);
    expect(engine!.status('web')?.healthy).toBe(true);
    expect(engine!.lastRoundAt()).toBeGreaterThanOrEqual(clock.now() - 1_000);
    await clock.advance(200); // the hang fires at 2 s
    const runs = t.runs;
    const frozenAt = engine!.lastRoundAt();
    await clock.advance(4_000);
    // One round may have been in flight when it fired; none starts afterwards.
    expect(t.runs - runs).toBeLessThanOrEqual(1);
    // Liveness stopped within max(1 s, timeout) + one tick of the last round.
    expect(engine!.lastRoundAt()).toBeLessThanOrEqual(frozenAt + 1_200);
    expect(clock.now() - engine!.lastRoundAt()).toBeGreaterThan(2_500);
    // A target going down during the hang is not seen: health is not being measured.
    t.up = false;
    await clock.advance(700);
    expect(engine!.status('web')?.healthy).toBe(true);
    // Released at 7 s: held rounds run, the failure is seen, liveness advances again.
    await clock.advance(1_000);
    expect(t.runs - runs).toBeGreaterThan(2);
    expect(engine!.status('web')?.healthy).toBe(false);
    expect(engine!.lastRoundAt()).toBeGreaterThanOrEqual(clock.now() - 1_000);
  });

  it('a passive event during the hang is held too', async () => {
    const t = start([{ name: 'health-loop-hang', trigger: { kind: 'after', afterMs: 1_000 } }]);
    await clock.advance(1_100);
    const runs = t.runs;
    t.up = false;
    t.drop('connection reset');
    await clock.advance(3_000);
    expect(t.runs - runs).toBeLessThanOrEqual(1);
    expect(engine!.status('web')?.healthy).toBe(true);
  });

  it('stop() during a hang that never ends completes (the gate releases)', async () => {
    start([{ name: 'health-loop-hang', trigger: { kind: 'after', afterMs: 500 } }]);
    await clock.advance(3_000);
    const stopping = engine!.stop();
    engine = undefined;
    await clock.advance(2_000);
    await expect(stopping).resolves.toBeUndefined();
  });
});

describe('health-loop-hang, file trigger (real clock)', () => {
  it('hangs while the file exists, resumes when it is removed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-failpoint-'));
    const file = join(dir, 'hang');
    const targets = new Map<string, Target>();
    const t = new Target();
    const spec = tcpSpec('127.0.0.1', 1002);
    targets.set(spec.label, t);
    const e = new HealthEngine([vip('web', [spec], { rise: 1, fall: 1, intervalMs: 100, fastIntervalMs: 100, timeoutMs: 100, jitter: 0 })], {
      logger: silentLogger,
      createChecker: scriptedFactory(targets),
      failpoints: parseFailpoints(`health-loop-hang@file:${file}`),
    });
    try {
      e.start();
      await waitFor(() => t.runs >= 3, { timeoutMs: 10_000, what: 'rounds before the file exists' });
      await writeFile(file, '');
      // The poll (100 ms) sees it; after that no new round starts.
      await new Promise((r) => setTimeout(r, 400));
      const runs = t.runs;
      await new Promise((r) => setTimeout(r, 1_000));
      expect(t.runs - runs).toBeLessThanOrEqual(1);
      await rm(file);
      await waitFor(() => t.runs >= runs + 3, { timeoutMs: 10_000, what: 'rounds after the file is removed' });
    } finally {
      await e.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
