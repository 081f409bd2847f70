/**
 * Failover latency (issues 7 and 8): a backend process is killed (kill -9) or hung (SIGSTOP) at
 * a random moment; we time from the signal until BIRD removes the VIP's route from its RIB,
 * using BIRD's own log stamp of the removal (1 ms resolution; see lib/router.ts).
 *
 * Every subject runs with the same policy: interval 1 s, fall 1, rise 1, check timeout 500 ms,
 * an HTTP check of the backend. ExaBGP's healthcheck runs `curl -sf -m 0.5` as its check.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpBackend } from './lib/backend.js';
import { benchDir, healthcheckProcess, startExabgp } from './lib/exabgp.js';
import { startGobgpd, closeClient } from './lib/gobgp.js';
import { stopDaemon, tail } from './lib/proc.js';
import { Router, freePort, loopbackAddress } from './lib/router.js';
import { startVipcast, vipcastMissing } from './lib/vipcast.js';
import { sleep, waitFor } from '../test/harness/wait.js';

export type FaultMode = 'kill' | 'stop';

export interface FailoverOptions {
  trials: number;
  mode: FaultMode;
  intervalMs: number;
  timeoutMs: number;
}

/** A running subject: the route it advertises and how to stop it. */
interface Running {
  stop(): Promise<void>;
  logFile: string;
  /** vipcast: its JSON log says when it decided a VIP was down, and which detector fired. */
  vipcastLog?: boolean;
}

interface SubjectContext {
  dir: string;
  router: Router;
  localAddress: string;
  /** The subject's BGP listen port, which BIRD connects to (GoBGP subjects). */
  bgpPort: number;
  vip: string;
  backendUrl: string;
  opts: FailoverOptions;
}

export interface FailoverSubject {
  name: string;
  /** gobgpd listens and BIRD connects to it (see PeerSpec.activePort). */
  gobgp?: boolean;
  /** Why it cannot run here, if it cannot. */
  unavailable(): string | undefined;
  start(ctx: SubjectContext): Promise<Running>;
}

const LOCAL_AS = 65001;
const VIP = '10.255.0.1/32';

export interface FailoverResult {
  subject: string;
  mode: FaultMode;
  /** Signal -> route removed from BIRD's RIB. */
  samplesMs: number[];
  /** vipcast only, from its log: signal -> "vip health changed" to down. */
  detectMs?: number[];
  /** vipcast only: its down decision -> route removed from BIRD (the time beyond detection). */
  pipelineMs?: number[];
  /** vipcast only: how often each detector fired ("passive", "periodic", ...). */
  detectors?: Record<string, number>;
}

interface Trial {
  /** Epoch ms at the signal (midpoint of the stamps around kill()). */
  signalAt: number;
  /** Epoch ms of BIRD's removal log stamp. */
  removedAt: number;
}

/** Runs all trials for one subject against a fresh BIRD and backend; returns latencies in ms. */
export async function measureFailover(subject: FailoverSubject, opts: FailoverOptions): Promise<FailoverResult> {
  const dir = await benchDir('failover');
  const localAddress = loopbackAddress();
  const bgpPort = await freePort(localAddress);
  const router = await Router.start([{ name: 'subject', address: localAddress, as: LOCAL_AS, traceRoutes: true, activePort: subject.gobgp ? bgpPort : undefined }]);
  const backend = new HttpBackend('127.0.0.1', await freePort('127.0.0.1'), 1, join(dir, 'backend.log'));
  let running: Running | undefined;
  try {
    await backend.start();
    running = await subject.start({ dir, router, localAddress, bgpPort, vip: VIP, backendUrl: backend.url(), opts });
    const trials: Trial[] = [];
    for (let trial = 0; trial < opts.trials; trial++) {
      await waitRoute(router, true, 30_000, `${subject.name}: route up before trial ${trial + 1} (log ${running.logFile})`);
      trials.push(await oneTrial(router, backend, opts));
      await backend.stop();
      await backend.start();
    }
    const samplesMs = trials.map((t) => t.removedAt - t.signalAt);
    const split = running.vipcastLog ? await splitByVipcastLog(running.logFile, trials) : {};
    return { subject: subject.name, mode: opts.mode, samplesMs, ...split };
  } catch (err) {
    const log = running ? await tail(running.logFile) : '';
    throw new Error(`failover ${subject.name} (${opts.mode}): ${(err as Error).message}\n${log}`, { cause: err });
  } finally {
    await running?.stop();
    await backend.stop();
    await router.stop();
  }
}

async function oneTrial(router: Router, backend: HttpBackend, opts: FailoverOptions): Promise<Trial> {
  // First let the service be stable: vipcast holds event-driven re-checks for fast_interval
  // after a transition (flap damping, issue 7), and the route has just come back from the
  // previous trial. (fast_interval = interval in every config here; +250 ms for the up
  // transition to precede BIRD's route by a little.) Then a random phase relative to the
  // subject's check schedule, which is unknown to us by design.
  await sleep(opts.intervalMs + 250 + Math.random() * opts.intervalMs);
  const mark = await router.logMark();
  const before = performance.timeOrigin + performance.now();
  backend.signal(opts.mode === 'kill' ? 'SIGKILL' : 'SIGSTOP');
  const after = performance.timeOrigin + performance.now();
  // The bound: a hung backend needs interval + timeout; generous margin for a loaded machine.
  const removedAt = await router.waitRouteEvent('subject', VIP, 'removed', mark, opts.intervalMs * 3 + opts.timeoutMs + 10_000);
  return { signalAt: (before + after) / 2, removedAt };
}

/**
 * Splits each trial at vipcast's own "vip health changed" (healthy: false) log entry (pino's
 * epoch-ms `time`): before it is detection, after it is vipcast's pipeline to BIRD's RIB.
 */
async function splitByVipcastLog(file: string, trials: Trial[]): Promise<Pick<FailoverResult, 'detectMs' | 'pipelineMs' | 'detectors'>> {
  const downs: { time: number; detector: string }[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line.includes('"healthy":false')) continue;
    const e = JSON.parse(line) as { time: number; detector?: string; healthy?: boolean };
    if (e.healthy === false) downs.push({ time: e.time, detector: e.detector ?? 'unknown' });
  }
  const detectMs: number[] = [];
  const pipelineMs: number[] = [];
  const detectors: Record<string, number> = {};
  for (const t of trials) {
    // pino stamps whole milliseconds: allow the entry 1 ms before the signal's midpoint.
    const d = downs.find((x) => x.time >= t.signalAt - 1 && x.time <= t.removedAt + 1);
    if (!d) throw new Error(`no "vip health changed" (down) entry in ${file} between the signal and the removal`);
    detectMs.push(d.time - t.signalAt);
    pipelineMs.push(t.removedAt - d.time);
    detectors[d.detector] = (detectors[d.detector] ?? 0) + 1;
  }
  return { detectMs, pipelineMs, detectors };
}

async function waitRoute(router: Router, present: boolean, timeoutMs: number, what: string): Promise<void> {
  await waitFor(async () => (await router.ctl.hasRoute(VIP, 'subject')) === present, { timeoutMs, intervalMs: 50, what });
}

const secs = (ms: number): string => `${ms / 1000}`;

export const exabgpSubject: FailoverSubject = {
  name: 'ExaBGP healthcheck',
  unavailable: () => undefined,
  async start(ctx) {
    const hc = await healthcheckProcess(ctx.dir, {
      name: 'web',
      vip: ctx.vip,
      nextHop: ctx.localAddress,
      command: `curl -sf -o /dev/null -m ${secs(ctx.opts.timeoutMs)} ${ctx.backendUrl}`,
      intervalSec: ctx.opts.intervalMs / 1000,
      fastIntervalSec: ctx.opts.intervalMs / 1000,
      timeoutSec: ctx.opts.timeoutMs / 1000,
      rise: 1,
      fall: 1,
    });
    const exa = await startExabgp(ctx.dir, { router: ctx.router, localAddress: ctx.localAddress, localAs: LOCAL_AS, processes: [hc], ack: true });
    return { logFile: exa.daemon.logFile, stop: async () => void (await stopDaemon(exa.daemon)) };
  },
};

/** vipcast with the built-in speaker or GoBGP; `passive` selects event-driven detection (issue 7). */
export function vipcastSubject(backend: 'builtin' | 'gobgp', passive: boolean): FailoverSubject {
  return {
    name: `vipcast ${backend === 'builtin' ? 'built-in speaker' : '+ GoBGP'}${passive ? ', passive' : ', periodic only'}`,
    gobgp: backend === 'gobgp',
    unavailable: vipcastMissing,
    async start(ctx) {
      const gobgp = backend === 'gobgp' ? await startGobgpd(ctx.dir, { localAddress: ctx.localAddress, localAs: LOCAL_AS, bare: true }) : undefined;
      const vc = await startVipcast(ctx.dir, {
        router: ctx.router,
        localAddress: ctx.localAddress,
        localAs: LOCAL_AS,
        gobgp: gobgp ? { api: `127.0.0.1:${gobgp.apiPort}`, listenPort: ctx.bgpPort } : undefined,
        health: { interval: `${ctx.opts.intervalMs}ms`, fastInterval: `${ctx.opts.intervalMs}ms`, timeout: `${ctx.opts.timeoutMs}ms`, rise: 1, fall: 1 },
        vips: [{ name: 'web', prefix: ctx.vip, checks: [`{ type: http, url: "${ctx.backendUrl}", passive: ${passive} }`] }],
      });
      return {
        logFile: vc.daemon.logFile,
        vipcastLog: true,
        stop: async () => {
          await stopDaemon(vc.daemon);
          if (gobgp) {
            closeClient(gobgp.client);
            await stopDaemon(gobgp.daemon);
          }
        },
      };
    },
  };
}
