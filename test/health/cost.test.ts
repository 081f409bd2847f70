/**
 * Cost: 1,000 VIPs with a 1 s interval must be comfortable on one core. This is a guard against
 * busy loops and per-check waste, not the benchmark (bench/ measures it properly): the
 * servers run in the same process, so the figure includes their work too.
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

it.each(['tcp', 'http'] as const)('%s: 1,000 VIPs at 1 s use well under one core', async (kind) => {
  const servers: Array<{ host: string; port: number; server: net.Server }> = [];
  for (let i = 0; i < TARGETS; i++) {
    const host = loopbackAddress();
    const server = kind === 'tcp' ? net.createServer((c) => c.on('error', () => undefined)) : http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    servers.push({ host, port: (server.address() as net.AddressInfo).port, server });
  }
  const vips = Array.from({ length: VIPS }, (_, i) => {
    const t = servers[i % TARGETS]!;
    const check = kind === 'tcp' ? tcpSpec(t.host, t.port) : httpSpec(`http://${t.host}:${t.port}/v${i}`);
    return vip(`v${i}`, [check], { intervalMs: 1_000, fastIntervalMs: 500, timeoutMs: 2_000, jitter: 0.1 });
  });
  const engine = new HealthEngine(vips, { logger: silentLogger });
  try {
    engine.start();
    await sleep(2_500);
    const before = process.cpuUsage();
    const t0 = Date.now();
    await sleep(4_000);
    const used = process.cpuUsage(before);
    const share = (used.user + used.system) / 1_000 / (Date.now() - t0);
    const up = engine.all().filter((h) => h.healthy).length;
    console.info(`${kind}: ${up}/${VIPS} VIPs healthy, ${(share * 100).toFixed(1)}% of one core (engine and ${TARGETS} servers in one process)`);
    expect(up).toBe(VIPS);
    expect(share).toBeLessThan(0.8);
  } finally {
    await engine.stop();
    for (const { server } of servers) {
      if (server instanceof http.Server) server.closeAllConnections();
      server.close();
    }
  }
}, 60_000);
