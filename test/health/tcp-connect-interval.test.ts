/**
 * tcp checks with connect_interval (issue 7, bounded cost): between fresh connects, a run
 * passes on the held passive connection alone. Real servers on loopback count the connections
 * they accept; the held connection closing still re-checks at once, and a listener closed
 * behind a still-open held connection is seen at the next fresh connect.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { VipConfig } from '../../src/config/types.js';
import { HealthEngine } from '../../src/health/engine.js';
import type { CheckResult, HealthPolicy } from '../../src/health/types.js';
import { silentLogger } from '../../src/log/logger.js';
import { loopbackAddress } from '../harness/net.js';
import { sleep, waitFor } from '../harness/wait.js';
import { tcpSpec, vip } from './helpers/vip.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A TCP server that counts accepted connections and keeps them (so they can be closed on demand). */
interface CountingServer {
  host: string;
  port: number;
  accepted(): number;
  open: Set<net.Socket>;
  server: net.Server;
}

async function countingServer(): Promise<CountingServer> {
  const host = loopbackAddress();
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    open.add(s);
    s.on('error', () => undefined); // resets from the checker's abortive close are expected
    s.once('close', () => open.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  cleanup.push(() => {
    for (const s of open) s.destroy();
    return new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  });
  return { host, port: (server.address() as net.AddressInfo).port, accepted: () => accepted, open, server };
}

interface Seen {
  engine: HealthEngine;
  results: Array<CheckResult & { seenAt: number }>;
}

function run(v: VipConfig): Seen {
  const results: Seen['results'] = [];
  const engine = new HealthEngine([v], { logger: silentLogger, onCheckResult: (_vip, _check, r) => results.push({ ...r, seenAt: Date.now() }) });
  engine.start();
  cleanup.push(() => engine.stop());
  return { engine, results };
}

const FAST: Partial<HealthPolicy> = { intervalMs: 200, fastIntervalMs: 100, timeoutMs: 150, rise: 1, fall: 1, jitter: 0 };

async function healthy(s: Seen): Promise<void> {
  await waitFor(() => s.engine.status('svc')?.healthy, { timeoutMs: 20_000, what: 'svc healthy' });
}

describe('tcp connect_interval', () => {
  it('interval 200 ms, connect_interval 1 s: a fresh connect about every second, held connection in between', async () => {
    const srv = await countingServer();
    const s = run(vip('svc', [tcpSpec(srv.host, srv.port, { connectIntervalMs: 1_000 })], FAST));
    await healthy(s);
    const before = srv.accepted();
    const from = s.results.length;
    const t0 = Date.now();
    await sleep(3_000);
    const conns = srv.accepted() - before;
    const window = s.results.slice(from);
    const held = window.filter((r) => r.reason.startsWith('held connection open')).length;
    const fresh = window.filter((r) => r.reason.startsWith('connected')).length;
    console.info(`connect_interval 1 s: ${conns} connections accepted, ${window.length} checks (${held} on the held connection, ${fresh} fresh) in ${Date.now() - t0} ms`);
    expect(window.every((r) => r.ok)).toBe(true);
    // A fresh run is one accepted connection, a held run none (±1: a run in flight at either edge of the window).
    expect(Math.abs(conns - fresh)).toBeLessThanOrEqual(1);
    expect(conns).toBeGreaterThanOrEqual(1);
    expect(conns).toBeLessThanOrEqual(5); // about 3; without connect_interval it would be ~15
    expect(held).toBeGreaterThan(fresh);
    expect(srv.open.size).toBe(1); // the held one
    expect(s.engine.status('svc')?.checks[0]?.reason).toMatch(/^(held connection open|connected) to /);
  });

  it('without connect_interval: a fresh connect every check', async () => {
    const srv = await countingServer();
    const s = run(vip('svc', [tcpSpec(srv.host, srv.port)], FAST));
    await healthy(s);
    const before = srv.accepted();
    const from = s.results.length;
    await sleep(3_000);
    const conns = srv.accepted() - before;
    const window = s.results.slice(from);
    console.info(`no connect_interval: ${conns} connections accepted for ${window.length} checks in 3 s`);
    expect(window.length).toBeGreaterThanOrEqual(5);
    expect(window.every((r) => r.ok && r.reason.startsWith('connected'))).toBe(true);
    // The last run's connection may be accepted before its result is reported, or the other way round.
    expect(Math.abs(conns - window.length)).toBeLessThanOrEqual(1);
  });

  it('the held connection closing re-checks at once with a fresh connect; a dead server is down at once', async () => {
    const srv = await countingServer();
    // Interval and connect_interval 10 s: anything within a second is the passive detector.
    const s = run(vip('svc', [tcpSpec(srv.host, srv.port, { connectIntervalMs: 10_000 })], { ...FAST, intervalMs: 10_000, fastIntervalMs: 300, timeoutMs: 1_000 }));
    await healthy(s);
    await waitFor(() => srv.open.size === 1, { timeoutMs: 5_000, what: 'held connection' });
    await sleep(300);
    const before = srv.accepted();
    const from = s.results.length;
    const closedAt = Date.now();
    for (const sock of srv.open) sock.destroy();
    const recheck = await waitFor(() => s.results.slice(from).find((r) => r.detector === 'passive'), { timeoutMs: 5_000, intervalMs: 5, what: 'passive re-check' });
    console.info(`held connection closed: passive re-check after ${recheck.seenAt - closedAt} ms: ${recheck.reason}`);
    expect(recheck.seenAt - closedAt).toBeLessThan(1_000);
    expect(recheck).toMatchObject({ ok: true });
    expect(recheck.reason).toMatch(/^connected to /);
    expect(srv.accepted()).toBeGreaterThan(before);
    expect(s.engine.status('svc')?.healthy).toBe(true);

    // Now the server dies: listener and held connection go together.
    await waitFor(() => srv.open.size === 1, { timeoutMs: 5_000, what: 'new held connection' });
    await sleep(300);
    const deadAt = Date.now();
    srv.server.close();
    for (const sock of srv.open) sock.destroy();
    await waitFor(() => s.engine.status('svc')?.healthy === false, { timeoutMs: 5_000, intervalMs: 5, what: 'svc down' });
    const latency = Date.now() - deadAt;
    const h = s.engine.status('svc')!;
    console.info(`server gone: down after ${latency} ms (${h.checks[0]?.reason})`);
    expect(latency).toBeLessThan(1_000);
    expect(h.lastDetector).toBe('passive');
    expect(h.checks[0]).toMatchObject({ ok: false, code: 'CONNECT_REFUSED' });
  });

  it('a listener closed behind a still-open held connection fails within connect_interval + interval', async () => {
    const srv = await countingServer();
    const s = run(vip('svc', [tcpSpec(srv.host, srv.port, { connectIntervalMs: 1_000 })], FAST));
    await healthy(s);
    await waitFor(() => srv.open.size === 1, { timeoutMs: 5_000, what: 'held connection' });
    const held = [...srv.open][0]!;
    const closedAt = Date.now();
    srv.server.close(); // stops accepting; the held connection stays open
    await waitFor(() => s.engine.status('svc')?.healthy === false, { timeoutMs: 10_000, intervalMs: 5, what: 'svc down' });
    const latency = Date.now() - closedAt;
    const h = s.engine.status('svc')!;
    console.info(`listener closed, held connection open: down after ${latency} ms (${h.checks[0]?.reason})`);
    expect(held.destroyed).toBe(false); // nothing told us: only the fresh connect could
    expect(h.checks[0]).toMatchObject({ ok: false, code: 'CONNECT_REFUSED' });
    expect(h.lastDetector).toBe('periodic');
    expect(latency).toBeLessThan(1_000 + 200 + 1_000); // connect_interval + interval + margin for a loaded machine
  });
});
