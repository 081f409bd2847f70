/**
 * Bulk advertisement (issue 8 §2): N /32 VIPs, healthy from the start. For each subject we
 * poll BIRD's imported-route counter (O(1), every 2 ms: the resolution) and report
 *   advertise: from the first route seen in BIRD to all N (the definition),
 *   total:     from the subject's first action (connect, API call, apply) to all N,
 *   withdraw:  from the withdrawal's start (packed withdrawals, DeletePath, apply(empty),
 *              SIGTERM) to 0 routes.
 * Every trial uses a fresh BIRD, so no table state carries over.
 */
import { writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDir, startExabgp } from './lib/exabgp.js';
import { addPathStream, cliAddPaths, closeClient, startGobgpd, unaryPaths, type GobgpInstance } from './lib/gobgp.js';
import { stopDaemon, tail } from './lib/proc.js';
import { RawSession, encodeAnnouncements, encodeWithdrawals, hostPrefixes } from './lib/rawbgp.js';
import { Router, freePort, loopbackAddress, watchCount } from './lib/router.js';
import { Worker } from 'node:worker_threads';
import { waitFor } from '../test/harness/wait.js';

export interface BulkTiming {
  advertiseMs: number;
  totalMs: number;
  withdrawMs?: number;
}

interface BulkContext {
  dir: string;
  router: Router;
  localAddress: string;
  /** The subject's own BGP port, which BIRD connects to (GoBGP subjects). */
  bgpPort: number;
  prefixes: string[];
  timeoutMs: number;
}

export interface BulkSubject {
  name: string;
  /** How this subject withdraws (for the table). */
  withdrawHow: string;
  /** gobgpd listens and BIRD connects to it (see PeerSpec.activePort). */
  gobgp?: boolean;
  unavailable(): string | undefined;
  run(ctx: BulkContext): Promise<BulkTiming>;
}

const LOCAL_AS = 65001;
const PROTO = 'subject';
const FEEDER = join(dirname(fileURLToPath(import.meta.url)), 'lib/exabgp-feeder.js');
const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'lib/backend-worker.js');

export async function measureBulk(subject: BulkSubject, n: number, timeoutMs: number): Promise<BulkTiming> {
  const dir = await benchDir('bulk');
  const localAddress = loopbackAddress();
  const bgpPort = await freePort(localAddress);
  const router = await Router.start([{ name: PROTO, address: localAddress, as: LOCAL_AS, traceRoutes: false, activePort: subject.gobgp ? bgpPort : undefined }]);
  try {
    return await subject.run({ dir, router, localAddress, bgpPort, prefixes: hostPrefixes(n), timeoutMs });
  } catch (err) {
    throw new Error(`bulk ${subject.name} N=${n}: ${(err as Error).message}`, { cause: err });
  } finally {
    await router.stop();
  }
}

async function established(router: Router, what: string): Promise<void> {
  await waitFor(() => router.established(PROTO), { timeoutMs: 30_000, intervalMs: 20, what: `${what} session with BIRD` });
}

/**
 * A watcher started before the action it observes and awaited after it. If the action fails
 * first, its error is the one reported; the watcher's own rejection is then moot, and is marked
 * handled here so it cannot crash the process as an unhandled rejection.
 */
function watcher<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Fill timing from `start` (performance.now()). */
function fill(ctx: BulkContext, start: number): Promise<{ advertiseMs: number; totalMs: number }> {
  return watcher(
    watchCount(ctx.router, PROTO, 0, ctx.prefixes.length, ctx.timeoutMs).then((t) => ({ advertiseMs: t.doneAt - t.firstAt, totalMs: t.doneAt - start })),
  );
}

function drain(ctx: BulkContext, start: number): Promise<number> {
  return watcher(watchCount(ctx.router, PROTO, ctx.prefixes.length, 0, ctx.timeoutMs).then((t) => t.doneAt - start));
}

export const rawSubject: BulkSubject = {
  name: 'raw packed UPDATEs (limit)',
  withdrawHow: 'packed withdrawals',
  unavailable: () => undefined,
  async run(ctx) {
    // Pre-encoded before the clock starts: this is the wire-and-router limit, not an encoder.
    const updates = encodeAnnouncements(ctx.prefixes, LOCAL_AS, ctx.localAddress);
    const withdrawals = encodeWithdrawals(ctx.prefixes);
    const start = performance.now();
    const s = new RawSession({ host: ctx.router.address, port: ctx.router.port, localAddress: ctx.localAddress, localAs: LOCAL_AS, routerId: ctx.localAddress });
    try {
      const filled = fill(ctx, start);
      await s.established;
      await s.write(updates);
      const t = await filled;
      const w0 = performance.now();
      const drained = drain(ctx, w0);
      await s.write(withdrawals);
      return { ...t, withdrawMs: await drained };
    } finally {
      s.close();
    }
  },
};

async function withGobgpd<T>(ctx: BulkContext, fn: (g: GobgpInstance) => Promise<T>): Promise<T> {
  const g = await startGobgpd(ctx.dir, { localAddress: ctx.localAddress, localAs: LOCAL_AS, router: ctx.router, listenPort: ctx.bgpPort });
  try {
    await established(ctx.router, 'gobgpd');
    return await fn(g);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await tail(g.daemon.logFile)}`, { cause: err });
  } finally {
    closeClient(g.client);
    await stopDaemon(g.daemon);
  }
}

export const gobgpStreamSubject: BulkSubject = {
  name: 'GoBGP AddPathStream',
  withdrawHow: 'AddPathStream is_withdraw',
  gobgp: true,
  unavailable: () => undefined,
  run: (ctx) =>
    withGobgpd(ctx, async (g) => {
      const start = performance.now();
      const filled = fill(ctx, start);
      await addPathStream(g.client, ctx.prefixes, ctx.localAddress);
      const t = await filled;
      const w0 = performance.now();
      const drained = drain(ctx, w0);
      await addPathStream(g.client, ctx.prefixes, ctx.localAddress, 1_000, true);
      return { ...t, withdrawMs: await drained };
    }),
};

export const gobgpUnarySubject: BulkSubject = {
  name: 'GoBGP unary AddPath (64 in flight)',
  withdrawHow: 'unary DeletePath (64 in flight)',
  gobgp: true,
  unavailable: () => undefined,
  run: (ctx) =>
    withGobgpd(ctx, async (g) => {
      const start = performance.now();
      const filled = fill(ctx, start);
      await unaryPaths(g.client, 'AddPath', ctx.prefixes, ctx.localAddress, 64);
      const t = await filled;
      const w0 = performance.now();
      const drained = drain(ctx, w0);
      await unaryPaths(g.client, 'DeletePath', ctx.prefixes, ctx.localAddress, 64);
      return { ...t, withdrawMs: await drained };
    }),
};

export const gobgpCliSubject: BulkSubject = {
  name: 'GoBGP `gobgp global rib add` per prefix (4 parallel)',
  withdrawHow: 'not measured',
  gobgp: true,
  unavailable: () => undefined,
  run: (ctx) =>
    withGobgpd(ctx, async (g) => {
      const start = performance.now();
      const filled = fill(ctx, start);
      await cliAddPaths(g.apiPort, ctx.prefixes, ctx.localAddress, 4);
      return await filled;
    }),
};

export const exabgpSubject: BulkSubject = {
  name: 'ExaBGP 4.2 API (ack=false)',
  withdrawHow: 'SIGTERM (ExaBGP closes the session; BIRD flushes)',
  unavailable: () => undefined,
  async run(ctx) {
    const cmds = join(ctx.dir, 'announce.txt');
    await writeFile(cmds, ctx.prefixes.map((p) => `announce route ${p} next-hop self\n`).join(''));
    const start = performance.now();
    const filled = fill(ctx, start);
    const exa = await startExabgp(ctx.dir, {
      router: ctx.router,
      localAddress: ctx.localAddress,
      localAs: LOCAL_AS,
      processes: [{ name: 'feeder', run: `${process.execPath} ${FEEDER} ${cmds} ${Math.ceil(ctx.timeoutMs / 1000) + 60}` }],
      ack: false,
    });
    try {
      const t = await filled;
      const w0 = performance.now();
      const drained = drain(ctx, w0);
      await stopDaemon(exa.daemon, 'SIGTERM', 30_000);
      return { ...t, withdrawMs: await drained };
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await tail(exa.daemon.logFile)}`, { cause: err });
    } finally {
      await stopDaemon(exa.daemon, 'SIGKILL');
    }
  },
};

/**
 * vipcast's backend classes driven directly (config parsed from YAML like `vipcast run`), in a
 * worker thread (lib/backend-worker.ts). The clock starts when apply() is posted.
 *
 * By default every trial gets a fresh worker: each apply() is a cold start (module loading done,
 * but no JIT-compiled code, protobuf code generation or gRPC call path warmed). The peers'
 * clients (AddPathStream, unary AddPath) run in the bench's own thread, which is warm from the
 * second trial on. `warm: true` keeps one worker per subject across trials (a new backend
 * instance, daemon and router each trial, as before) so that vipcast's trials after the first
 * run warm too, like the peers': the like-for-like comparison of the encoding and streaming
 * paths themselves. close() ends the kept worker.
 */
export function vipcastBackendSubject(kind: 'builtin' | 'gobgp', opts: { warm?: boolean } = {}): BulkSubject & { close(): Promise<void> } {
  let kept: BackendWorker | undefined;
  return {
    name: `${kind === 'builtin' ? 'vipcast built-in speaker (backend class)' : 'vipcast GoBGP backend (backend class)'}${opts.warm ? ', warm worker' : ''}`,
    withdrawHow: 'apply(empty set)',
    gobgp: kind === 'gobgp',
    unavailable: () => undefined,
    async close() {
      await kept?.terminate();
      kept = undefined;
    },
    async run(ctx) {
      const gobgp = kind === 'gobgp' ? await startGobgpd(ctx.dir, { localAddress: ctx.localAddress, localAs: LOCAL_AS, bare: true }) : undefined;
      const yaml = backendYaml(ctx, gobgp ? { api: `127.0.0.1:${gobgp.apiPort}`, listenPort: ctx.bgpPort } : undefined);
      const file = join(ctx.dir, 'vipcast.yaml');
      const worker = opts.warm ? (kept ??= new BackendWorker(yaml, file, ctx.timeoutMs)) : new BackendWorker(yaml, file, ctx.timeoutMs);
      try {
        const started = (await worker.call({ cmd: 'start', yaml, file })) as { kind: string };
        if (started.kind !== kind) throw new Error(`createBackend gave the ${started.kind} backend, not ${kind}`);
        await established(ctx.router, `vipcast ${kind}`);
        const start = performance.now();
        const filled = fill(ctx, start);
        await worker.call({ cmd: 'apply', prefixes: ctx.prefixes });
        const t = await filled;
        const w0 = performance.now();
        const drained = drain(ctx, w0);
        await worker.call({ cmd: 'apply', prefixes: [] });
        return { ...t, withdrawMs: await drained };
      } finally {
        await worker.call({ cmd: 'stop' }).finally(() => (worker === kept ? undefined : worker.terminate()));
        if (gobgp) {
          closeClient(gobgp.client);
          await stopDaemon(gobgp.daemon);
        }
      }
    },
  };
}

/** Request/response over a worker running lib/backend-worker.js; every call has a deadline. */
export class BackendWorker {
  private readonly worker: Worker;
  constructor(yaml: string, file: string, private readonly timeoutMs: number) {
    this.worker = new Worker(WORKER, { workerData: { yaml, file } });
  }

  /** `yaml`/`file` with 'start': the config of this backend instance (default: the constructor's). */
  call(msg: { cmd: string; prefixes?: string[]; yaml?: string; file?: string }): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`backend worker: ${msg.cmd} took over ${this.timeoutMs} ms`)), this.timeoutMs);
      this.worker.once('message', (r: { ok?: unknown; error?: string }) => {
        clearTimeout(timer);
        if (r.error !== undefined) reject(new Error(`backend worker ${msg.cmd}: ${r.error}`));
        else resolve(r.ok);
      });
      this.worker.postMessage(msg);
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

export function backendYaml(ctx: Pick<BulkContext, 'router' | 'localAddress'>, gobgp: { api: string; listenPort: number } | undefined): string {
  return [
    'bgp:',
    `  local_as: ${LOCAL_AS}`,
    `  router_id: ${ctx.localAddress}`,
    ...(gobgp ? [`  gobgp_address: ${gobgp.api}`, `  listen: { address: ${ctx.localAddress}, port: ${gobgp.listenPort} }`] : []),
    `  next_hop: { ipv4: ${ctx.localAddress} }`,
    '  neighbors:',
    `    - { address: ${ctx.router.address}, remote_as: 65000, port: ${ctx.router.port}, local_address: ${ctx.localAddress}, ebgp_multihop: 2 }`,
    'vips:',
    '  - { name: unused, prefix: 192.0.2.1/32, checks: [{ type: tcp, address: "127.0.0.1:1" }] }',
    '',
  ].join('\n');
}
