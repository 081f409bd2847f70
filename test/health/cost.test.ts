/**
 * Cost: 1,000 VIPs with a 1 s interval must be comfortable on one core. A guard against busy
 * loops and per-check waste, not the benchmark (bench/ measures that properly): the listeners
 * run in the same process, so the figure includes their work too. It asserts CPU time per
 * completed check, which machine load barely moves, rather than wall-clock throughput.
 */
import http from 'node:http';
import net from 'node:net';
import { expect, it } from 'vitest';
import { HealthEngine } from '../../src/health/engine.js';
import { silentLogger } from '../../src/log/logger.js';
import { loopbackAddress } from '../harness/net.js';
import { sleep } from '../harness/wait.js';
import { httpSpec, tcpSpec, vip } from './helpers/vip.js';

const VIPS = 1_000;
const TARGETS = 20;

interface Window {
  /** Checks completed in the window. */
  done: number;
  cpuMs: number;
  wallMs: number;
  up: number;
}

/** Starts `engine`, lets it settle for 2.5 s, then measures a 4 s window of process CPU time. */
async function measureWindow(engine: HealthEngine, checks: () => number): Promise<Window> {
  engine.start();
  await sleep(2_500);
  const before = process.cpuUsage();
  const checksBefore = checks();
  const t0 = Date.now();
  await sleep(4_000);
  const used = process.cpuUsage(before);
  return {
    done: checks() - checksBefore,
    cpuMs: (used.user + used.system) / 1_000,
    wallMs: Date.now() - t0,
    up: engine.all().filter((h) => h.healthy).length,
  };
}

const describeCost = (w: Window): string => `${((w.cpuMs / w.wallMs) * 100).toFixed(1)}% of one core, ${((w.cpuMs / w.done) * 1_000).toFixed(0)} µs CPU per check`;

it('tcp: 1,000 VIPs at 1 s cost well under a millisecond of CPU per check, no busy loops', async () => {
  const servers: Array<{ host: string; port: number; server: net.Server }> = [];
  for (let i = 0; i < TARGETS; i++) {
    const host = loopbackAddress();
    const server = net.createServer((c) => c.on('error', () => undefined));
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    servers.push({ host, port: (server.address() as net.AddressInfo).port, server });
  }
  const vips = Array.from({ length: VIPS }, (_, i) => {
    const t = servers[i % TARGETS]!;
    return vip(`v${i}`, [tcpSpec(t.host, t.port)], { intervalMs: 1_000, fastIntervalMs: 500, timeoutMs: 2_000, jitter: 0.1 });
  });
  let checks = 0;
  const engine = new HealthEngine(vips, { logger: silentLogger, onCheckResult: () => checks++ });
  try {
    const w = await measureWindow(engine, () => checks);
    if (w.up < VIPS) console.info(JSON.stringify(engine.all().find((h) => !h.healthy)));
    console.info(`tcp: ${w.up}/${VIPS} healthy, ${w.done} checks in ${w.wallMs} ms, ${describeCost(w)} (listeners included)`);
    // About one check per VIP per second when the machine is idle; a starved CI box gets fewer
    // (timers fire late), so only require that every VIP was checked again at all.
    expect(w.done).toBeGreaterThan(VIPS);
    expect(w.cpuMs / w.done).toBeLessThan(1);
  } finally {
    await engine.stop();
    for (const { server } of servers) server.close();
  }
}, 60_000);

it('http: 1,000 VIPs at 1 s over kept-alive connections cost well under a millisecond of CPU per check', async () => {
  const servers: http.Server[] = [];
  const urls: string[] = [];
  for (let i = 0; i < TARGETS; i++) {
    const host = loopbackAddress();
    const server = http.createServer((_req, res) => res.end('ok'));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    servers.push(server);
    urls.push(`http://${host}:${(server.address() as net.AddressInfo).port}/`);
  }
  const vips = Array.from({ length: VIPS }, (_, i) => vip(`v${i}`, [httpSpec(urls[i % TARGETS]!)], { intervalMs: 1_000, fastIntervalMs: 500, timeoutMs: 2_000, jitter: 0.1 }));
  let checks = 0;
  let failed = 0;
  const engine = new HealthEngine(vips, {
    logger: silentLogger,
    onCheckResult: (_v, _c, r) => {
      checks++;
      if (!r.ok) failed++;
    },
  });
  try {
    const w = await measureWindow(engine, () => checks);
    console.info(`http: ${w.up}/${VIPS} healthy, ${w.done} checks (${failed} failed in all) in ${w.wallMs} ms, ${describeCost(w)} (servers included)`);
    expect(w.done).toBeGreaterThan(VIPS);
    expect(w.up).toBe(VIPS);
    expect(w.cpuMs / w.done).toBeLessThan(1);
  } finally {
    await engine.stop();
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
  }
}, 60_000);
