/**
 * Event-driven detection (issue 7) against real backends: with a 10 s interval, a backend
 * killed with SIGKILL must be seen down within a second (the kernel closes its sockets and
 * our held connection tells us), fall must still be honoured, and a flapping server must not
 * flap the result faster than min(rise, fall) × fast_interval.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { VipConfig } from '../../src/config/types.js';
import { HealthEngine, type VipHealth } from '../../src/health/engine.js';
import { silentLogger } from '../../src/log/logger.js';
import { loopbackAddress } from '../harness/net.js';
import { sleep, waitFor } from '../harness/wait.js';
import { startBackend, type Backend, type BackendKind } from './helpers/backend.js';
import { startGrpcHealthServer } from './helpers/grpc-server.js';
import { execSpec, grpcSpec, httpSpec, tcpSpec, vip } from './helpers/vip.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Watched {
  engine: HealthEngine;
  transitions: Array<{ at: number; h: VipHealth }>;
}

function run(vips: VipConfig[]): Watched {
  const engine = new HealthEngine(vips, { logger: silentLogger });
  const transitions: Watched['transitions'] = [];
  engine.onTransition((h) => transitions.push({ at: Date.now(), h }));
  engine.start();
  cleanup.push(() => engine.stop());
  return { engine, transitions };
}

async function healthy(w: Watched, name: string): Promise<void> {
  await waitFor(() => w.engine.status(name)?.healthy, { timeoutMs: 20_000, what: `${name} healthy` });
}

async function downAfter(w: Watched, name: string, since: number): Promise<{ latency: number; h: VipHealth }> {
  const t = await waitFor(() => w.transitions.find((x) => x.h.name === name && !x.h.healthy && x.at >= since), { timeoutMs: 15_000, intervalMs: 5, what: `${name} down` });
  return { latency: t.at - since, h: t.h };
}

const SLOW = { intervalMs: 10_000, fastIntervalMs: 300, timeoutMs: 1_000, rise: 1, fall: 1, jitter: 0 };

function specFor(kind: BackendKind, host: string, port: number) {
  if (kind === 'tcp') return tcpSpec(host, port);
  if (kind === 'http') return httpSpec(`http://${host}:${port}/`);
  return grpcSpec(host, port, '');
}

describe('passive detection of a killed backend (interval 10 s)', () => {
  it.each(['tcp', 'http', 'grpc'] as const)('%s: down within 1 s of kill -9, detector passive', async (kind) => {
    const host = loopbackAddress();
    const backend: Backend = await startBackend(kind, host);
    cleanup.push(() => backend.kill());
    const w = run([vip('svc', [specFor(kind, host, backend.port)], SLOW)]);
    await healthy(w, 'svc');
    await sleep(300); // let the watch settle (Watch stream, held connection)
    const killedAt = Date.now();
    await backend.kill();
    const { latency, h } = await downAfter(w, 'svc', killedAt);
    console.info(`passive ${kind}: down ${latency} ms after kill -9 (interval 10 s)`);
    expect(latency).toBeLessThan(1_000);
    expect(h.lastDetector).toBe('passive');
    expect(h.checks[0]!.ok).toBe(false);
  });

  it('fall is still honoured: fall 3 at fast_interval 300 ms takes two more checks', async () => {
    const host = loopbackAddress();
    const backend = await startBackend('http', host);
    cleanup.push(() => backend.kill());
    const w = run([vip('svc', [specFor('http', host, backend.port)], { ...SLOW, fall: 3 })]);
    await healthy(w, 'svc');
    await sleep(300);
    const killedAt = Date.now();
    await backend.kill();
    const { latency, h } = await downAfter(w, 'svc', killedAt);
    console.info(`passive http fall 3: down ${latency} ms after kill -9`);
    expect(latency).toBeGreaterThanOrEqual(2 * 300 - 5);
    expect(latency).toBeLessThan(2 * 300 + 1_500);
    expect(h.lastDetector).toBe('passive');
    expect(h.checks[0]).toMatchObject({ ok: false, code: 'CONNECT_REFUSED' });
  });

  it('http: keep-alive connections per target are shared by every VIP checking it and reused', async () => {
    const host = loopbackAddress();
    let connections = 0;
    const server = http.createServer((_req, res) => res.end('ok'));
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://${host}:${(server.address() as net.AddressInfo).port}/`;
    const w = run(['a', 'b', 'c'].map((n) => vip(n, [httpSpec(url)], { ...SLOW, intervalMs: 200, fastIntervalMs: 100 })));
    for (const n of ['a', 'b', 'c']) await healthy(w, n);
    const opened = connections;
    expect(opened).toBeLessThanOrEqual(3); // at most one per concurrent check, never one per VIP per round
    await sleep(1_500); // about 20 more rounds
    expect(connections).toBe(opened);
    server.closeAllConnections();
  });

  it('grpc: a Watch stream reporting NOT_SERVING re-checks at once', async () => {
    const host = loopbackAddress();
    const srv = await startGrpcHealthServer(host, { api: 'SERVING' });
    cleanup.push(() => srv.kill());
    const w = run([vip('svc', [grpcSpec(host, srv.port, 'api')], SLOW)]);
    await healthy(w, 'svc');
    await sleep(300);
    const at = Date.now();
    srv.set('api', 'NOT_SERVING');
    const { latency, h } = await downAfter(w, 'svc', at);
    console.info(`passive grpc Watch: down ${latency} ms after NOT_SERVING`);
    expect(latency).toBeLessThan(1_000);
    expect(h).toMatchObject({ lastDetector: 'passive' });
    expect(h.checks[0]).toMatchObject({ code: 'GRPC_NOT_SERVING' });
  });

  it('grpc without Watch (UNIMPLEMENTED): the channel leaving READY still re-checks at once', async () => {
    const host = loopbackAddress();
    const srv = await startGrpcHealthServer(host, { '': 'SERVING' }, { watch: false });
    cleanup.push(() => srv.kill());
    const w = run([vip('svc', [grpcSpec(host, srv.port, '')], SLOW)]);
    await healthy(w, 'svc');
    await sleep(300);
    const at = Date.now();
    srv.kill();
    const { latency, h } = await downAfter(w, 'svc', at);
    console.info(`passive grpc (connectivity only): down ${latency} ms after the server dropped its connections`);
    expect(latency).toBeLessThan(1_000);
    expect(h).toMatchObject({ lastDetector: 'passive' });
  });

  it('exec with watch_pid_file: the process exiting re-checks at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vipcast-pid-'));
    const pidFile = join(dir, 'svc.pid');
    const svc = spawn('sleep', ['300'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => svc.once('exit', () => resolve()));
    cleanup.push(async () => {
      svc.kill('SIGKILL');
      await exited;
    });
    writeFileSync(pidFile, `${svc.pid}\n`);
    const check = execSpec(['/bin/sh', '-c', `kill -0 "$(cat ${pidFile})"`], { watchPidFile: pidFile });
    const w = run([vip('svc', [check], SLOW)]);
    await healthy(w, 'svc');
    await sleep(300);
    const killedAt = Date.now();
    svc.kill('SIGKILL');
    await exited;
    const { latency, h } = await downAfter(w, 'svc', killedAt);
    console.info(`passive exec pid: down ${latency} ms after kill -9`);
    expect(latency).toBeLessThan(1_000);
    expect(h).toMatchObject({ lastDetector: 'passive' });
    expect(h.checks[0]).toMatchObject({ code: 'EXEC_EXIT' });
  });
});

describe('a flapping server', () => {
  it('cannot flap the result faster than min(rise, fall) × fast_interval', async () => {
    const host = loopbackAddress();
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const port = (server.address() as net.AddressInfo).port;
    const fast = 200;
    const w = run([vip('svc', [tcpSpec(host, port)], { intervalMs: 300, fastIntervalMs: fast, timeoutMs: 500, rise: 2, fall: 2, jitter: 0.1 })]);
    await healthy(w, 'svc');
    // Up and down for random spells of 20-720 ms, for about 6 s; every down drops all connections.
    let listening = true;
    let seed = 42;
    const started = Date.now();
    for (let i = 0; i < 1_000 && Date.now() - started < 6_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      await sleep(20 + ((seed >> 8) % 700));
      if (listening) {
        server.close();
        for (const s of sockets) s.destroy();
      } else {
        await new Promise<void>((resolve) => server.listen(port, host, resolve));
      }
      listening = !listening;
    }
    if (listening) server.close();
    for (const s of sockets) s.destroy();
    const at = w.transitions.map((x) => x.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    console.info(`flapping server: ${at.length} transitions in 6 s, smallest gap ${Math.min(...gaps)} ms (bound ${2 * fast} ms)`);
    expect(at.length).toBeGreaterThanOrEqual(2);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(2 * fast - 5);
  }, 30_000);
});

/**
 * A hung backend (SIGSTOP): its process is alive, so the kernel keeps its connections and its
 * listening socket open. The held connection says nothing; the periodic check must catch it
 * within interval + timeout (issue 7). And what a tcp check can and cannot see of it.
 */
describe('a hung backend (SIGSTOP)', () => {
  const HUNG = { intervalMs: 1_000, fastIntervalMs: 300, timeoutMs: 500, rise: 1, fall: 1, jitter: 0 };

  async function stopped(kind: BackendKind): Promise<{ w: Watched; backend: Backend; stoppedAt: number }> {
    const host = loopbackAddress();
    const backend = await startBackend(kind, host);
    cleanup.push(() => backend.kill());
    const w = run([vip('svc', [specFor(kind, host, backend.port)], HUNG)]);
    await healthy(w, 'svc');
    await sleep(300);
    const stoppedAt = Date.now();
    backend.child.kill('SIGSTOP');
    // SIGCONT first, so kill -9 in cleanup is not left pending on a stopped process.
    cleanup.push(() => void backend.child.kill('SIGCONT'));
    return { w, backend, stoppedAt };
  }

  it('http: the periodic check times out and takes the VIP down within interval + timeout; detector periodic', async () => {
    const { w, stoppedAt } = await stopped('http');
    const { latency, h } = await downAfter(w, 'svc', stoppedAt);
    console.info(`hung http backend: down ${latency} ms after SIGSTOP (interval 1 s, timeout 500 ms, bound 1,500 ms)`);
    expect(h.lastDetector).toBe('periodic');
    expect(h.checks[0]).toMatchObject({ ok: false, code: 'TIMEOUT' });
    // interval + timeout, plus the 10 ms round grid, plus slack for a loaded CI machine.
    expect(latency).toBeLessThan(1_000 + 500 + 500);
  });

  it('tcp: the kernel still completes the handshake, so a tcp check cannot see the hang (it stays up)', async () => {
    const { w } = await stopped('tcp');
    const before = w.transitions.length;
    await sleep(3_500);
    const h = w.engine.status('svc')!;
    expect(w.transitions.length).toBe(before);
    expect(h.healthy).toBe(true);
    expect(h.checks[0]).toMatchObject({ ok: true, code: 'OK' });
    // Three or more fresh connects went through while the process was stopped.
    expect(Date.now() - h.checks[0]!.at!.getTime()).toBeLessThan(1_500);
  });
});
