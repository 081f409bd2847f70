/**
 * `watch_systemd_unit` (issue 7) against the real kernel, without systemd: the tests make
 * cgroups the way systemd would (`<slice>/<unit>` below a cgroup v2 mount), move a real process
 * in, kill -9 it, and time how long the VIP takes to go down with a 10 s interval and fall 1.
 * Also: a restart (the cgroup removed and made again), a unit that appears after start, a
 * passing check with no cgroup, a host without cgroup v2.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { VipConfig } from '../../src/config/types.js';
import { CheckPools, checkerFactory } from '../../src/health/checks/index.js';
import { systemClock } from '../../src/health/clock.js';
import { HealthEngine, type VipHealth } from '../../src/health/engine.js';
import { findCgroup2Mount, parsePopulated } from '../../src/health/passive/unit-cgroup.js';
import { UnitWatcher, type UnitWatcherOptions } from '../../src/health/passive/unit-watch.js';
import type { CheckResult } from '../../src/health/types.js';
import { silentLogger, type Logger } from '../../src/log/logger.js';
import { rm } from 'node:fs/promises';
import { hasBird } from '../harness/bird.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { hasBuild, VipcastProcess } from '../harness/vipcast.js';
import { sleep, waitFor } from '../harness/wait.js';
import { startBird, tempDir, vipsView, waitAdmin, waitRoute, writeText } from '../faults/lib/fixture.js';
import { execSpec, vip } from './helpers/vip.js';

// --- a cgroup tree of our own ----------------------------------------------------------------

/** `<cgroup2 mount>/vipcast-test-<pid>`, made now; or why these tests cannot run here. */
function makeTestRoot(): { mount: string; name: string; root: string } | { skip: string } {
  let mountinfo: string;
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch (err) {
    return { skip: `cannot read /proc/self/mountinfo: ${String(err)}` };
  }
  const found = findCgroup2Mount(mountinfo);
  if (!found.ok) return { skip: found.message };
  const name = `vipcast-test-${process.pid}`;
  const root = join(found.dir, name);
  try {
    mkdirSync(root);
    return { mount: found.dir, name, root };
  } catch (err) {
    return { skip: `cgroup v2 at ${found.dir} is not writable here (${String(err)}): needs root and a writable cgroup2 mount` };
  }
}

const TEST_ROOT = makeTestRoot();
const SKIP = 'skip' in TEST_ROOT ? TEST_ROOT.skip : undefined;
const ROOT = 'skip' in TEST_ROOT ? '' : TEST_ROOT.root;

function eventsOf(dir: string): string {
  return readFileSync(join(dir, 'cgroup.events'), 'utf8');
}

/** A service in a cgroup of its own: `sleep` moved into `<dir>` (made if missing). */
async function startUnit(dir: string): Promise<ChildProcess & { exited: Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const child = spawn('sleep', ['120'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
  await waitFor(() => parsePopulated(eventsOf(dir)), { timeoutMs: 5_000, intervalMs: 5, what: `${dir} populated` });
  return Object.assign(child, { exited });
}

/** Kill every process left in the tree, then remove its cgroups, deepest first. */
async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const sub = join(dir, entry);
    if (statSync(sub).isDirectory()) await removeTree(sub);
  }
  for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone between the read and the kill.
    }
  }
  await waitFor(() => parsePopulated(eventsOf(dir)) === false, { timeoutMs: 5_000, intervalMs: 10, what: `${dir} empty` });
  rmdirSync(dir);
}

afterAll(async () => {
  if (ROOT) await removeTree(ROOT);
});

// --- engine with our own pools ----------------------------------------------------------------

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Running {
  engine: HealthEngine;
  pools: CheckPools;
  transitions: Array<{ at: number; h: VipHealth }>;
  results: Array<{ at: number; r: CheckResult }>;
}

function run(vips: VipConfig[], units: UnitWatcherOptions, logger: Logger = silentLogger): Running {
  const pools = new CheckPools(logger, systemClock, { units });
  const engine = new HealthEngine(vips, { logger, createChecker: checkerFactory(pools), onCheckResult: (_v, _c, r) => results.push({ at: performance.now(), r }) });
  const transitions: Running['transitions'] = [];
  const results: Running['results'] = [];
  engine.onTransition((h) => transitions.push({ at: performance.now(), h }));
  engine.start();
  cleanup.push(async () => {
    await engine.stop();
    pools.close();
  });
  return { engine, pools, transitions, results };
}

/** The check a unit would have: is anything running in its cgroup (a stand-in for `systemctl is-active`). */
function unitCheck(dir: string, unit: string) {
  return execSpec(['/bin/grep', '-qx', 'populated 1', join(dir, 'cgroup.events')], { watchSystemdUnit: unit });
}

const TEN_S = { intervalMs: 10_000, fastIntervalMs: 100, timeoutMs: 1_000, rise: 1, fall: 1, jitter: 0 };
/** For tests that need the VIP back up by the periodic check: kills come right after a round. */
const TWO_S = { ...TEN_S, intervalMs: 2_000 };

/**
 * Healthy, watch armed, and at least fast_interval past the up transition: the runner never
 * evaluates sooner than that after a flip (its anti-flap bound), which is not what we measure.
 */
async function healthyAndArmed(r: Running, name: string, unit: string, fastIntervalMs = TEN_S.fastIntervalMs): Promise<void> {
  await waitFor(() => r.engine.status(name)?.healthy, { timeoutMs: 25_000, what: `${name} healthy` });
  await waitFor(() => r.pools.units.armed(unit), { timeoutMs: 5_000, intervalMs: 5, what: `${unit} watch armed` });
  const up = r.transitions.filter((x) => x.h.name === name && x.h.healthy).at(-1)!;
  await waitFor(() => performance.now() > up.at + fastIntervalMs, { timeoutMs: fastIntervalMs + 5_000, intervalMs: 10, what: 'fast_interval past the flip' });
}

/** Kill -9 and wait for the VIP's next down transition; latency from just before the kill. */
async function killAndTime(r: Running, name: string, svc: ChildProcess & { exited: Promise<void> }): Promise<{ latency: number; h: VipHealth }> {
  const at = performance.now();
  svc.kill('SIGKILL');
  const t = await waitFor(() => r.transitions.find((x) => x.h.name === name && !x.h.healthy && x.at >= at), { timeoutMs: 15_000, intervalMs: 2, what: `${name} down` });
  await svc.exited;
  return { latency: t.at - at, h: t.h };
}

/** Wait for the next periodic result, so the following one is a full interval away. */
async function afterRound(r: Running): Promise<void> {
  const n = r.results.length;
  await waitFor(() => r.results.length > n, { timeoutMs: 5_000, intervalMs: 5, what: 'a check round' });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

let seq = 0;
function unitName(): string {
  return `system.slice/demo-${++seq}.service`;
}

// --- tests ------------------------------------------------------------------------------------

describe.skipIf(SKIP !== undefined)(`watch_systemd_unit on a real cgroup v2 tree${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
  it('kill -9 of the unit\'s process: the VIP is down well before the 10 s interval (mount found in /proc/self/mountinfo)', async () => {
    if ('skip' in TEST_ROOT) return;
    // No cgroupRoot: the watcher finds the cgroup2 mount itself; the unit path runs through our tree.
    const unit = `${TEST_ROOT.name}/${unitName()}`;
    const dir = join(TEST_ROOT.mount, unit);
    const svc = await startUnit(dir);
    const r = run([vip('svc', [unitCheck(dir, unit)], TEN_S)], {});
    await healthyAndArmed(r, 'svc', unit);
    const { latency, h } = await killAndTime(r, 'svc', svc);
    console.info(`watch_systemd_unit: VIP down ${latency.toFixed(1)} ms after kill -9 (interval 10 s, fall 1)`);
    expect(latency).toBeLessThan(500);
    expect(h).toMatchObject({ lastDetector: 'passive', healthy: false });
    expect(h.checks[0]).toMatchObject({ ok: false, code: 'EXEC_EXIT' });
  });

  it('detection latency over 20 kills (engine per trial, interval 10 s, fall 1)', async () => {
    const vipLatencies: number[] = [];
    const fireLatencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const unit = unitName();
      const dir = join(ROOT, unit);
      const svc = await startUnit(dir);
      const r = run([vip('svc', [unitCheck(dir, unit)], TEN_S)], { cgroupRoot: ROOT });
      let firedAt = Number.NaN;
      const unwatch = r.pools.units.subscribe(unit, () => (firedAt = performance.now()));
      await healthyAndArmed(r, 'svc', unit);
      const at = performance.now();
      const { latency, h } = await killAndTime(r, 'svc', svc);
      expect(h).toMatchObject({ lastDetector: 'passive' });
      vipLatencies.push(latency);
      fireLatencies.push(firedAt - at);
      unwatch();
      await cleanup.pop()!();
      rmdirSync(dir);
    }
    const vips = [...vipLatencies].sort((a, b) => a - b);
    const fires = [...fireLatencies].sort((a, b) => a - b);
    const fmt = (xs: number[]): string => `p50 ${percentile(xs, 50).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms, max ${xs[xs.length - 1]!.toFixed(1)} ms`;
    console.info(`watch_systemd_unit, 20 kills: inotify event -> watcher fired ${fmt(fires)}; VIP down ${fmt(vips)}`);
    expect(fires.every((x) => Number.isFinite(x))).toBe(true);
    expect(percentile(vips, 99)).toBeLessThan(500);
  }, 120_000);

  it('restart: the cgroup removed and made again; the next passing check re-opens the watch on the new one', async () => {
    const unit = unitName();
    const dir = join(ROOT, unit);
    let svc = await startUnit(dir);
    const r = run([vip('svc', [unitCheck(dir, unit)], TWO_S)], { cgroupRoot: ROOT });
    await healthyAndArmed(r, 'svc', unit);
    const firstIno = statSync(join(dir, 'cgroup.events')).ino;
    await afterRound(r);
    const first = await killAndTime(r, 'svc', svc);
    expect(first.h).toMatchObject({ lastDetector: 'passive' });
    // What systemd does on a restart: the dead unit's cgroup goes, a new one is made.
    rmdirSync(dir);
    svc = await startUnit(dir);
    expect(statSync(join(dir, 'cgroup.events')).ino).not.toBe(firstIno);
    const downs = r.transitions.length;
    await healthyAndArmed(r, 'svc', unit);
    expect(r.transitions.length).toBeGreaterThan(downs);
    await afterRound(r);
    const second = await killAndTime(r, 'svc', svc);
    console.info(`watch_systemd_unit restart: down ${first.latency.toFixed(1)} ms, then on the re-made cgroup ${second.latency.toFixed(1)} ms after kill -9 (interval 2 s)`);
    expect(second.latency).toBeLessThan(500);
    expect(second.h).toMatchObject({ lastDetector: 'passive' });
  });

  it('a restart faster than the re-check (fall 2): the watch follows the new cgroup without the VIP going down', async () => {
    const unit = unitName();
    const dir = join(ROOT, unit);
    let svc = await startUnit(dir);
    const r = run([vip('svc', [unitCheck(dir, unit)], { ...TEN_S, fall: 2, fastIntervalMs: 500 })], { cgroupRoot: ROOT });
    await healthyAndArmed(r, 'svc', unit, 500);
    const firstIno = statSync(join(dir, 'cgroup.events')).ino;
    const resultsBefore = r.results.length;
    const transitionsBefore = r.transitions.length;
    svc.kill('SIGKILL');
    await svc.exited;
    rmdirSync(dir);
    svc = await startUnit(dir);
    // The passive re-check ran (one failure at most, fall 2), the next one passed and re-armed on the new cgroup.
    await waitFor(() => r.results.slice(resultsBefore).some((x) => x.r.detector === 'passive'), { timeoutMs: 5_000, what: 'a passive re-check' });
    await waitFor(() => r.pools.units.armed(unit) && r.results.at(-1)?.r.ok, { timeoutMs: 5_000, intervalMs: 5, what: 'watch re-armed after a pass' });
    expect(statSync(join(dir, 'cgroup.events')).ino).not.toBe(firstIno);
    expect(r.transitions.length).toBe(transitionsBefore);
    const at = performance.now();
    svc.kill('SIGKILL');
    const t = await waitFor(() => r.transitions.find((x) => !x.h.healthy && x.at >= at), { timeoutMs: 15_000, intervalMs: 2, what: 'svc down' });
    await svc.exited;
    console.info(`watch_systemd_unit fast restart: second kill seen, VIP down ${(t.at - at).toFixed(1)} ms after it (fall 2, fast_interval 500 ms)`);
    // Two failing checks at least fast_interval apart: passive start + 500 ms, well before 10 s.
    expect(t.at - at).toBeLessThan(2_000);
    expect(t.h).toMatchObject({ lastDetector: 'passive' });
  });

  it('a unit that does not exist at start is no error: it comes up, and then its exit is seen at once', async () => {
    const unit = unitName();
    const dir = join(ROOT, unit);
    const logs = captureLogs();
    const r = run([vip('svc', [unitCheck(dir, unit)], TWO_S)], { cgroupRoot: ROOT }, logs.logger);
    await waitFor(() => r.results.length > 0, { timeoutMs: 5_000, what: 'first round' });
    expect(r.engine.status('svc')?.healthy).toBe(false);
    expect(r.pools.units.armed(unit)).toBe(false);
    const svc = await startUnit(dir);
    await healthyAndArmed(r, 'svc', unit);
    await afterRound(r);
    const { latency, h } = await killAndTime(r, 'svc', svc);
    console.info(`watch_systemd_unit late unit: down ${latency.toFixed(1)} ms after kill -9`);
    expect(latency).toBeLessThan(500);
    expect(h).toMatchObject({ lastDetector: 'passive' });
    expect(logs.lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('two VIPs watching one unit share its watch and both go down', async () => {
    const unit = unitName();
    const dir = join(ROOT, unit);
    const svc = await startUnit(dir);
    const r = run([vip('a', [unitCheck(dir, unit)], TEN_S), vip('b', [unitCheck(dir, unit)], TEN_S)], { cgroupRoot: ROOT });
    await healthyAndArmed(r, 'a', unit);
    await healthyAndArmed(r, 'b', unit);
    const at = performance.now();
    svc.kill('SIGKILL');
    const downs = await waitFor(() => {
      const d = r.transitions.filter((x) => !x.h.healthy && x.at >= at);
      return d.length === 2 ? d : undefined;
    }, { timeoutMs: 15_000, intervalMs: 2, what: 'both VIPs down' });
    await svc.exited;
    expect(downs.map((x) => x.h.name).sort()).toEqual(['a', 'b']);
    for (const d of downs) {
      expect(d.at - at).toBeLessThan(500);
      expect(d.h).toMatchObject({ lastDetector: 'passive' });
    }
  });

  it('the watch lives while someone subscribes; it fires each armed subscriber once, with the reason', async () => {
    const unit = unitName();
    const svc = await startUnit(join(ROOT, unit));
    const watcher = new UnitWatcher(silentLogger, { cgroupRoot: ROOT });
    cleanup.push(() => watcher.close());
    const calls: string[] = [];
    const u1 = watcher.subscribe(unit, (why) => calls.push(`1 ${why}`));
    const u2 = watcher.subscribe(unit, (why) => calls.push(`2 ${why}`));
    await waitFor(() => watcher.armed(unit), { timeoutMs: 5_000, intervalMs: 5, what: 'armed' });
    u1();
    expect(watcher.armed(unit)).toBe(true);
    u2();
    expect(watcher.armed(unit)).toBe(false);
    watcher.subscribe(unit, (why) => calls.push(`3 ${why}`));
    await waitFor(() => watcher.armed(unit), { timeoutMs: 5_000, intervalMs: 5, what: 're-armed' });
    svc.kill('SIGKILL');
    await waitFor(() => calls.length > 0, { timeoutMs: 5_000, intervalMs: 2, what: 'the watcher firing' });
    await svc.exited;
    expect(calls).toEqual([`3 unit ${unit}: no process left (cgroup.events populated 0)`]);
    expect(watcher.armed(unit)).toBe(false);
  });

  it('kill -9 and the cgroup removed at once (systemd prunes it): seen every time, through the slice watch', async () => {
    // The kernel drops a cgroup.events notification still queued when the cgroup goes.
    const watcher = new UnitWatcher(silentLogger, { cgroupRoot: ROOT });
    cleanup.push(() => watcher.close());
    const reasons: string[] = [];
    for (let i = 0; i < 20; i++) {
      const unit = unitName();
      const dir = join(ROOT, unit);
      const svc = await startUnit(dir);
      let why: string | undefined;
      const unsubscribe = watcher.subscribe(unit, (w) => (why = w));
      await waitFor(() => watcher.armed(unit), { timeoutMs: 5_000, intervalMs: 2, what: 'armed' });
      svc.kill('SIGKILL');
      await svc.exited;
      await waitFor(() => {
        try {
          rmdirSync(dir);
          return true;
        } catch {
          return false;
        }
      }, { timeoutMs: 5_000, intervalMs: 1, what: `rmdir ${dir}` });
      reasons.push(await waitFor(() => why, { timeoutMs: 5_000, intervalMs: 2, what: `trial ${i}: the watcher firing` }));
      unsubscribe();
    }
    const removed = reasons.filter((r) => r.endsWith('cgroup removed')).length;
    console.info(`kill -9 + immediate rmdir, 20 trials: all seen; ${removed} by the slice watch (cgroup removed), ${20 - removed} by cgroup.events`);
    expect(reasons.every((r) => /populated 0|cgroup removed/.test(r))).toBe(true);
  });

  it('a passing check while the unit has no cgroup warns once (wrong name or slice)', async () => {
    const unit = unitName();
    const logs = captureLogs();
    const r = run([vip('svc', [execSpec(['/bin/true'], { watchSystemdUnit: unit })], { ...TEN_S, intervalMs: 150 })], { cgroupRoot: ROOT }, logs.logger);
    await waitFor(() => r.engine.status('svc')?.healthy, { timeoutMs: 10_000, what: 'svc healthy' });
    await waitFor(() => r.results.length >= 4, { timeoutMs: 10_000, what: 'four rounds' });
    await waitFor(() => logs.lines.some((l) => l.code === 'UNIT_WATCH_NO_CGROUP'), { timeoutMs: 5_000, what: 'the warning' });
    const warned = logs.lines.filter((l) => l.code === 'UNIT_WATCH_NO_CGROUP');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, unit });
    expect(r.pools.units.armed(unit)).toBe(false);
  });
});

describe.skipIf(SKIP !== undefined || !hasBird() || !hasBuild())(
  `vipcast run with watch_systemd_unit, a real BIRD and /v1/vips${SKIP ? ` (skipped: ${SKIP})` : !hasBird() ? ' (skipped: no BIRD)' : !hasBuild() ? ' (skipped: no build, run npm run build)' : ''}`,
  () => {
    it('kill -9 of the unit: the route leaves BIRD well before the 10 s interval; /v1/vips says passive', async () => {
      if ('skip' in TEST_ROOT) return;
      // The cgroup path form, relative to the mount vipcast finds itself in /proc/self/mountinfo.
      const unit = `${TEST_ROOT.name}/system.slice/e2e.service`;
      const dir = join(TEST_ROOT.mount, unit);
      const svc = await startUnit(dir);
      const ours = loopbackAddress();
      const birdAddr = loopbackAddress();
      const { bird, port } = await startBird('10.255.7.1', birdAddr, [
        // strict bind: BIRD's wildcard listen can hit EADDRINUSE on a busy loopback ("No listening socket").
        { name: 'vc', neighbor: ours, neighborAs: 65001, extra: 'strict bind yes;' },
      ]);
      cleanup.push(() => bird.stop());
      const adminPort = await freePort();
      const cfgDir = await tempDir('unit-watch');
      const config = await writeText(cfgDir, 'vipcast.yaml', `
bgp:
  local_as: 65001
  router_id: ${ours}
  neighbors:
    - { address: ${birdAddr}, port: ${port}, remote_as: 65000, local_address: ${ours}, ebgp_multihop: 2 }
health: { interval: 10s, fast_interval: 100ms, timeout: 1s, rise: 1, fall: 1, jitter: 0% }
vips:
  - name: unit
    prefix: 192.0.2.77
    checks:
      - { type: exec, command: [/bin/grep, -qx, populated 1, ${join(dir, 'cgroup.events')}], watch_systemd_unit: /${unit} }
admin: { listen: "127.0.0.1:${adminPort}" }
log: { level: warn }
shutdown: { graceful_community: false, grace_period: 0s }
`);
      const vipcast = new VipcastProcess(['run', '--config', config]);
      cleanup.push(async () => {
        await vipcast.stop('SIGKILL');
        await rm(cfgDir, { recursive: true, force: true });
      });
      await waitAdmin(vipcast, adminPort);
      await waitRoute(bird, 'vc', '192.0.2.77/32', true, 30_000).catch(async (err: unknown) => {
        throw new Error(`${String(err)}; /v1/vips ${JSON.stringify(await vipsView(adminPort))}; BIRD ${await bird.birdc('show protocols all vc').catch(String)}; vipcast: ${vipcast.output.slice(-3000)}`);
      });
      // Past the anti-flap bound (fast_interval after the up flip), as in a real incident.
      await sleepPast(100);
      const at = performance.now();
      svc.kill('SIGKILL');
      await waitRoute(bird, 'vc', '192.0.2.77/32', false, 15_000);
      const latency = performance.now() - at;
      await svc.exited;
      console.info(`vipcast run + BIRD: route gone from BIRD ${latency.toFixed(0)} ms after kill -9 of the unit's process (interval 10 s; BIRD polled every 25 ms)`);
      expect(latency).toBeLessThan(1_000);
      const view = (await vipsView(adminPort)).find((v) => v.name === 'unit');
      expect(view).toMatchObject({ healthy: false, advertised: false, detector: 'passive' });
      expect(vipcast.output).not.toMatch(/UNIT_WATCH_NO_CGROUP/);
    }, 90_000);
  },
);

/** Bounded: wait until `ms` more have passed (the runner's own time bound, not a hope). */
async function sleepPast(ms: number): Promise<void> {
  const until = performance.now() + ms;
  await waitFor(() => performance.now() >= until, { timeoutMs: ms + 5_000, intervalMs: 10, what: `${ms} ms` });
}

describe('a host without cgroup v2', () => {
  it('is an error naming watch_systemd_unit at start-up; the check still runs periodically', async () => {
    const logs = captureLogs();
    const watcher = new UnitWatcher(logs.logger, { mountinfo: '40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n' });
    const unsubscribe = watcher.subscribe('system.slice/nginx.service', () => undefined);
    watcher.subscribe('system.slice/db.service', () => undefined);
    const errors = logs.lines.filter((l) => l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'UNIT_WATCH_NO_CGROUP2', unit: 'system.slice/nginx.service' });
    expect(String(errors[0]!.msg)).toMatch(/watch_systemd_unit needs the cgroup v2 hierarchy: cgroup v2 is not mounted here/);
    expect(watcher.armed('system.slice/nginx.service')).toBe(false);
    unsubscribe();
    watcher.close();
    await sleep(0);
  });
});

interface LogLine {
  level: number;
  msg?: string;
  code?: string;
  unit?: string;
}

function captureLogs(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}
