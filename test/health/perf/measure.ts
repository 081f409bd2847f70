/**
 * Health-check cost measurement (issue 7: "1,000 VIPs well under 10% of a core"; issue 8 §3:
 * "1,000 VIPs, an HTTP check each at 1 s, under 5% of one core and under 150 MB peak RSS").
 *
 * Runs the real HealthEngine in this process with the app's per-check work (the Prometheus
 * histogram and failure counter, a pino logger at warn like the benchmark) against HTTP
 * servers in a child process (servers.mjs), whose CPU is therefore not counted. Once every VIP
 * is healthy and a warm-up has passed, it measures for a window:
 *   cpu: process.cpuUsage() over the window, as % of one core;
 *   rss: peak of process.memoryUsage().rss sampled every 100 ms from start, and VmHWM;
 *   checks: completed checks in the window (one per VIP per second when timers are on time).
 * Prints one JSON line. Timing is what the benchmark uses (bench/capacity.ts): interval 1 s,
 * fast_interval 1 s, timeout 500 ms, rise 1, fall 1, jitter 10 %; one port per VIP by default.
 *
 * Not a test: build and run with test/health/perf/run.sh (tsc to a temp dir, then node).
 * Options: --vips N --targets N (distinct ports, default = vips) --window S --warmup S
 *          --passive on|off --metrics on|off --type http|tcp --profile FILE (V8 CPU profile of the window only)
 *          --alloc-profile FILE (V8 sampling heap profile of the window, collected objects included:
 *          what allocates, not what is live; .heapprofile, summarised by alloc-summary.mjs)
 *          --quantum MS (the engine's round grid, default 10)
 *          --connect-interval MS (tcp checks: connect_interval, a fresh connect at most that often
 *          while the held connection stays open; needs --passive on)
 *          --client own|undici (http checks through undici instead of checks/http-client.ts; needs
 *          VIPCAST_UNDICI=path/to/undici/index.js, see undici-checker.ts)
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HealthEngine, type HealthEngineOptions } from '../../../src/health/engine.js';
import type { CheckSpec, HealthPolicy } from '../../../src/health/types.js';
import type { VipConfig } from '../../../src/config/types.js';
import { createLogger } from '../../../src/log/logger.js';
import { Metrics } from '../../../src/metrics/metrics.js';
import { loadUndici, UndiciHttpChecker } from './undici-checker.js';

interface Options {
  vips: number;
  targets: number;
  windowS: number;
  warmupS: number;
  passive: boolean;
  metrics: boolean;
  type: 'http' | 'tcp';
  client: 'own' | 'undici';
  quantumMs?: number;
  profile?: string;
  allocProfile?: string;
  connectIntervalMs?: number;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const vips = Number(get('vips') ?? 1_000);
  return {
    vips,
    targets: Number(get('targets') ?? vips),
    windowS: Number(get('window') ?? 20),
    warmupS: Number(get('warmup') ?? 5),
    passive: (get('passive') ?? 'on') === 'on',
    metrics: (get('metrics') ?? 'on') === 'on',
    type: get('type') === 'tcp' ? 'tcp' : 'http',
    client: get('client') === 'undici' ? 'undici' : 'own',
    ...(get('quantum') ? { quantumMs: Number(get('quantum')) } : {}),
    ...(get('profile') ? { profile: get('profile') } : {}),
    ...(get('alloc-profile') ? { allocProfile: get('alloc-profile') } : {}),
    ...(get('connect-interval') ? { connectIntervalMs: Number(get('connect-interval')) } : {}),
  };
}

const POLICY: HealthPolicy = { intervalMs: 1_000, fastIntervalMs: 1_000, timeoutMs: 500, rise: 1, fall: 1, jitter: 0.1 };

function vipConfig(i: number, check: CheckSpec): VipConfig {
  const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  return {
    name: `v${i}`,
    prefix: `${address}/32`,
    family: 'ipv4',
    address,
    require: 'all',
    checks: [check],
    policy: POLICY,
    attributes: { origin: 'igp', asPathPrepend: 0, communities: [], largeCommunities: [], extendedCommunities: [] },
    whenDown: 'withdraw',
    holdDownMs: 0,
  };
}

function httpCheck(port: number, passive: boolean): CheckSpec {
  const url = `http://127.0.0.1:${port}/`;
  return { type: 'http', label: `http:${url}`, url, method: 'GET', expectStatus: [[200, 299]], headers: {}, tlsSkipVerify: false, passive };
}

function tcpCheck(port: number, passive: boolean, connectIntervalMs?: number): CheckSpec {
  return { type: 'tcp', label: `tcp:127.0.0.1:${port}`, host: '127.0.0.1', port, passive, ...(connectIntervalMs === undefined ? {} : { connectIntervalMs }) };
}

function vmHwmMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startServers(count: number): Promise<{ ports: number[]; stop: () => void }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'servers.mjs');
  // The compiled copy of this file lives elsewhere; servers.mjs is not compiled, find it in the repo.
  const path = process.env.VIPCAST_PERF_SERVERS ?? script;
  const child = spawn(process.execPath, [path, String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ports = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('servers not ready after 30 s')), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)) as number[]);
      }
    });
    child.once('exit', (code) => reject(new Error(`servers exited with ${code}`)));
  });
  return { ports, stop: () => child.kill('SIGKILL') };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.connectIntervalMs !== undefined && (opts.type !== 'tcp' || !opts.passive)) throw new Error('--connect-interval applies to --type tcp with --passive on');
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
  const servers = await startServers(opts.targets);
  const metrics = new Metrics({ processMetrics: true });
  let checks = 0;
  let failed = 0;
  const reasons = new Map<string, number>();
  const onCheckResult = (vip: string, check: string, r: { ok: boolean; durationMs: number; reason: string }): void => {
    checks++;
    if (!r.ok) {
      failed++;
      // The first few distinct reasons, to tell timeouts from errors.
      if (reasons.size < 5 || reasons.has(r.reason)) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
    }
    if (!opts.metrics) return;
    // What src/app/vipcast.ts does with every result.
    metrics.checkDuration.observe({ vip, check }, r.durationMs / 1000);
    if (!r.ok) metrics.checkFailures.inc({ vip, check });
  };
  const check = opts.type === 'tcp' ? tcpCheck : httpCheck;
  const vips = Array.from({ length: opts.vips }, (_, i) => vipConfig(i, check(servers.ports[i % opts.targets]!, opts.passive, opts.connectIntervalMs)));
  let createChecker: HealthEngineOptions['createChecker'];
  if (opts.client === 'undici') {
    const undici = await loadUndici(process.env.VIPCAST_UNDICI ?? 'undici');
    createChecker = (spec) => {
      if (spec.type !== 'http') throw new Error('--client undici measures http checks only');
      return new UndiciHttpChecker(spec, undici);
    };
  }
  const engine = new HealthEngine(vips, { logger: createLogger({ level: 'warn', format: 'json' }), onCheckResult, ...(createChecker ? { createChecker } : {}), ...(opts.quantumMs !== undefined ? { roundQuantumMs: opts.quantumMs } : {}) });
  const t00 = Date.now();
  engine.start();
  try {
    // Bounded: all healthy within 30 s or we report how many were.
    for (let i = 0; i < 300 && engine.all().some((h) => !h.healthy); i++) await sleep(100);
    const healthyAfterMs = Date.now() - t00;
    await sleep(opts.warmupS * 1_000);
    let session: Session | undefined;
    if (opts.profile || opts.allocProfile) {
      session = new Session();
      session.connect();
    }
    if (session && opts.profile) {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    if (session && opts.allocProfile) {
      // Objects the scavenger and mark-compact collect are kept in the sample: garbage is the
      // cost being looked for (GC time, and the promotions that drive peak RSS).
      await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    }
    const checks0 = checks;
    const failed0 = failed;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(opts.windowS * 1_000);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    const done = checks - checks0;
    if (session && opts.profile) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(opts.profile, JSON.stringify(profile));
    }
    if (session && opts.allocProfile) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      writeFileSync(opts.allocProfile, JSON.stringify(profile));
    }
    session?.disconnect();
    const cpuMs = (cpu.user + cpu.system) / 1_000;
    const result = {
      type: opts.type,
      client: opts.client,
      quantumMs: opts.quantumMs ?? null,
      vips: opts.vips,
      targets: opts.targets,
      passive: opts.passive,
      connectIntervalMs: opts.connectIntervalMs ?? null,
      metrics: opts.metrics,
      windowS: Math.round(wallMs / 100) / 10,
      cpuPercent: Math.round((cpuMs / wallMs) * 1_000) / 10,
      userPercent: Math.round((cpu.user / 1_000 / wallMs) * 1_000) / 10,
      sysPercent: Math.round((cpu.system / 1_000 / wallMs) * 1_000) / 10,
      checks: done,
      failed: failed - failed0,
      failReasons: Object.fromEntries(reasons),
      usPerCheck: done > 0 ? Math.round((cpuMs / done) * 1_000) : null,
      healthy: engine.all().filter((h) => h.healthy).length,
      healthyAfterMs,
      peakRssMiB: Math.round(Math.max(peakRss, process.memoryUsage.rss()) / 1024 / 102.4) / 10,
      vmHwmMiB: Math.round(vmHwmMiB() * 10) / 10,
      loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
      node: process.version,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    clearInterval(rssTimer);
    await engine.stop();
    servers.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
