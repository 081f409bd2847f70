/**
 * Reconcile cost (issue 8 §4): one drift-repair pass over P paths in GoBGP, so the resync
 * interval can be chosen with numbers. Two lines:
 *   baseline: ListPath of the global table (only_binary) streamed to the bench, plus a diff of
 *             the prefixes against the desired set: the floor any level-triggered repair pays;
 *   vipcast:  the GoBGP backend's resync() after apply(P paths), with no drift, and with 1% of
 *             its paths deleted behind its back (the repair re-adds them), timed in its worker.
 */
import { join } from 'node:path';
import { BackendWorker, backendYaml } from './bulk.js';
import { benchDir } from './lib/exabgp.js';
import { addPathStream, closeClient, listPaths, startGobgpd, unaryPaths } from './lib/gobgp.js';
import { stopDaemon } from './lib/proc.js';
import { hostPrefixes } from './lib/rawbgp.js';
import { Router, freePort, loopbackAddress } from './lib/router.js';

export interface ReconcileResult {
  paths: number;
  /** ListPath + diff by the bench, ms per trial. */
  baselineMs: number[];
  /** vipcast resync() with nothing to repair, ms per trial (undefined: not measured). */
  vipcastCleanMs?: number[];
  /** vipcast resync() after 1% of its paths were deleted, ms per trial. */
  vipcastDriftMs?: number[];
  notMeasured?: string;
}

const LOCAL_AS = 65001;

export async function measureReconcile(paths: number, trials: number): Promise<ReconcileResult> {
  const dir = await benchDir('reconcile');
  const localAddress = loopbackAddress();
  const router = await Router.start([{ name: 'subject', address: localAddress, as: LOCAL_AS, traceRoutes: false }]);
  const prefixes = hostPrefixes(paths);
  try {
    const baselineMs = await baseline(dir, localAddress, prefixes, trials);
    const vipcast = await vipcastResync(dir, router, localAddress, prefixes, trials);
    return { paths, baselineMs, ...vipcast };
  } finally {
    await router.stop();
  }
}

async function baseline(dir: string, localAddress: string, prefixes: string[], trials: number): Promise<number[]> {
  const g = await startGobgpd(dir, { localAddress, localAs: LOCAL_AS });
  try {
    await addPathStream(g.client, prefixes, localAddress);
    const desired = new Set(prefixes);
    const out: number[] = [];
    for (let i = 0; i < trials; i++) {
      const t0 = performance.now();
      const have = await listPaths(g.client, true);
      let missing = 0;
      for (const p of desired) if (!have.has(p)) missing++;
      let stale = 0;
      for (const p of have.keys()) if (!desired.has(p)) stale++;
      out.push(performance.now() - t0);
      if (missing !== 0 || stale !== 0 || have.size !== prefixes.length) throw new Error(`baseline diff found ${missing} missing, ${stale} stale of ${have.size}`);
    }
    return out;
  } finally {
    closeClient(g.client);
    await stopDaemon(g.daemon);
  }
}

async function vipcastResync(dir: string, router: Router, localAddress: string, prefixes: string[], trials: number): Promise<Omit<ReconcileResult, 'paths' | 'baselineMs'>> {
  const g = await startGobgpd(dir, { localAddress, localAs: LOCAL_AS, bare: true });
  const yaml = backendYaml({ router, localAddress }, { api: `127.0.0.1:${g.apiPort}`, listenPort: await freePort(localAddress) });
  const worker = new BackendWorker(yaml, join(dir, 'vipcast.yaml'), 300_000);
  try {
    const started = (await worker.call({ cmd: 'start' })) as { kind: string };
    if (started.kind !== 'gobgp') return { notMeasured: `createBackend gave the ${started.kind} backend` };
    await worker.call({ cmd: 'apply', prefixes });
    const vipcastCleanMs: number[] = [];
    const vipcastDriftMs: number[] = [];
    const drift = prefixes.filter((_, i) => i % 100 === 0);
    for (let i = 0; i < trials; i++) {
      vipcastCleanMs.push(((await worker.call({ cmd: 'resync' })) as { ms: number }).ms);
      await unaryPaths(g.client, 'DeletePath', drift, localAddress, 16);
      vipcastDriftMs.push(((await worker.call({ cmd: 'resync' })) as { ms: number }).ms);
      const have = await listPaths(g.client, true);
      if (have.size !== prefixes.length) throw new Error(`after resync GoBGP holds ${have.size} paths, expected ${prefixes.length}`);
    }
    return { vipcastCleanMs, vipcastDriftMs };
  } finally {
    await worker.call({ cmd: 'stop' }).finally(() => worker.terminate());
    closeClient(g.client);
    await stopDaemon(g.daemon);
  }
}
