/**
 * Check capacity (issue 8 §3): N VIPs, each with an HTTP check at a 1 s interval against its
 * own port of a local backend process, advertised to BIRD. After all N routes are up, we
 * measure for `windowMs`:
 *   CPU: utime+stime (+ reaped children) of the subject's whole process tree from /proc, as %
 *        of one core over the window (backends excluded: they are the services, not the checker);
 *   RSS: peak of the tree's summed VmRSS, sampled every second, and for vipcast also its VmHWM.
 * ExaBGP's healthcheck takes one check command per process, so N VIPs need N healthcheck
 * processes (each forking `curl` every interval): that is what runs here.
 */
import { join } from 'node:path';
import { HttpBackend } from './lib/backend.js';
import { benchDir, healthcheckProcess, startExabgp } from './lib/exabgp.js';
import { peakRssMiB, processTree, stopDaemon, tail, treeCpuSeconds, treeRssMiB, type Daemon } from './lib/proc.js';
import { Router, loopbackAddress, watchCount } from './lib/router.js';
import { startVipcast, vipcastMissing } from './lib/vipcast.js';
import { hostPrefixes } from './lib/rawbgp.js';
import { sleep } from '../test/harness/wait.js';

export interface CapacityResult {
  subject: string;
  vips: number;
  processes: number;
  windowSec: number;
  cpuPercent: number;
  peakRssMiB: number;
}

const LOCAL_AS = 65001;
const PROTO = 'subject';
const BACKEND_BASE_PORT = 20_000;

interface Started {
  daemon: Daemon;
}

export interface CapacitySubject {
  name: string;
  unavailable(): string | undefined;
  start(ctx: { dir: string; router: Router; localAddress: string; prefixes: string[]; urls: string[] }): Promise<Started>;
}

export async function measureCapacity(subject: CapacitySubject, n: number, windowMs: number): Promise<CapacityResult> {
  const dir = await benchDir('capacity');
  const localAddress = loopbackAddress();
  const router = await Router.start([{ name: PROTO, address: localAddress, as: LOCAL_AS, traceRoutes: false }]);
  // N servers on a loopback address of their own, on ports below the ephemeral range: on
  // 127.0.0.1 a block of 1,000 ports next to a free one collides with other programs' sockets.
  const backend = new HttpBackend(loopbackAddress(), BACKEND_BASE_PORT, n, join(dir, 'backend.log'));
  let started: Started | undefined;
  try {
    await backend.start();
    const prefixes = hostPrefixes(n, 0x20000);
    const urls = prefixes.map((_, i) => backend.url(i));
    started = await subject.start({ dir, router, localAddress, prefixes, urls });
    await watchCount(router, PROTO, 0, n, 120_000, 50);
    return await sample(subject.name, n, started.daemon, windowMs);
  } catch (err) {
    const log = started ? await tail(started.daemon.logFile) : '';
    throw new Error(`capacity ${subject.name} N=${n}: ${(err as Error).message}\n${log}`, { cause: err });
  } finally {
    if (started) await stopDaemon(started.daemon);
    await backend.stop();
    await router.stop();
  }
}

async function sample(name: string, n: number, daemon: Daemon, windowMs: number): Promise<CapacityResult> {
  const pid = daemon.proc.pid!;
  const cpu0 = await treeCpuSeconds(pid);
  const t0 = performance.now();
  let peak = 0;
  let processes = 0;
  // Bounded: one sample per second for the window.
  for (let i = 0; i < Math.ceil(windowMs / 1000); i++) {
    peak = Math.max(peak, await treeRssMiB(pid));
    processes = Math.max(processes, (await processTree(pid)).length);
    await sleep(Math.max(0, t0 + (i + 1) * 1000 - performance.now()));
  }
  const cpu1 = await treeCpuSeconds(pid);
  const elapsed = (performance.now() - t0) / 1000;
  peak = Math.max(peak, await peakRssMiB(pid));
  return { subject: name, vips: n, processes, windowSec: elapsed, cpuPercent: ((cpu1 - cpu0) / elapsed) * 100, peakRssMiB: peak };
}

export const vipcastCapacity: CapacitySubject = {
  name: 'vipcast (built-in speaker)',
  unavailable: vipcastMissing,
  async start(ctx) {
    const vc = await startVipcast(ctx.dir, {
      router: ctx.router,
      localAddress: ctx.localAddress,
      localAs: LOCAL_AS,
      health: { interval: '1s', fastInterval: '1s', timeout: '500ms', rise: 1, fall: 1 },
      vips: ctx.prefixes.map((p, i) => ({ name: `v${i}`, prefix: p, checks: [`{ type: http, url: "${ctx.urls[i]}" }`] })),
      logLevel: 'warn',
    });
    return { daemon: vc.daemon };
  },
};

export const exabgpCapacity: CapacitySubject = {
  name: 'ExaBGP healthcheck (one process per VIP)',
  unavailable: () => undefined,
  async start(ctx) {
    const procs = [];
    for (let i = 0; i < ctx.prefixes.length; i++) {
      procs.push(
        await healthcheckProcess(ctx.dir, {
          name: `v${i}`,
          vip: ctx.prefixes[i]!,
          nextHop: ctx.localAddress,
          command: `curl -sf -o /dev/null -m 0.5 ${ctx.urls[i]}`,
          intervalSec: 1,
          fastIntervalSec: 1,
          timeoutSec: 0.5,
          rise: 1,
          fall: 1,
        }),
      );
    }
    const exa = await startExabgp(ctx.dir, { router: ctx.router, localAddress: ctx.localAddress, localAs: LOCAL_AS, processes: procs, ack: true });
    return { daemon: exa.daemon };
  },
};
