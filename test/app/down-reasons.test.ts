/**
 * Issue 2, health engine: "A missing exec binary, refused connection, timeout, wrong status or
 * body, DNS NXDOMAIN, gRPC NOT_SERVING are reported as a down result with a reason, never a
 * crash." One running vipcast (real engine, real admin API), one VIP per failure class, each
 * against a real server on loopback; GET /v1/vips must say, per VIP, which check failed and why,
 * and the health loop must keep completing rounds (/healthz 200) with all of them failing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { Vipcast } from '../../src/app/vipcast.js';
import { HealthEngine } from '../../src/health/engine.js';
import type { CheckSpec } from '../../src/health/types.js';
import { silentLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { startDnsServer, type DnsServer } from '../health/helpers/dns-server.js';
import { startGrpcHealthServer, type GrpcHealthServer } from '../health/helpers/grpc-server.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { waitFor } from '../harness/wait.js';
import { RecordingBackend, vipConfig } from '../manager/fixtures.js';
import { appConfig } from './config.js';

const policy = { intervalMs: 500, fastIntervalMs: 200, timeoutMs: 300, rise: 1, fall: 1, jitter: 0 };

describe('every failure class is a down VIP with a reason, never a crash', () => {
  const host = loopbackAddress();
  let web: http.Server;
  let dns: DnsServer;
  let grpc: GrpcHealthServer;
  let app: Vipcast;
  let base: string;
  const expected = new Map<string, RegExp>();

  beforeAll(async () => {
    web = http.createServer((req, res) => {
      if (req.url === '/503') res.writeHead(503).end('overloaded');
      else if (req.url === '/hang') return; // never answers
      else res.end('all good');
    });
    await new Promise<void>((resolve) => web.listen(0, host, () => resolve()));
    const webPort = (web.address() as { port: number }).port;
    dns = await startDnsServer(loopbackAddress(), new Map([['svc.test', { A: ['192.0.2.1'] }]]));
    grpc = await startGrpcHealthServer(loopbackAddress(), { '': 'SERVING', batch: 'NOT_SERVING' });
    const closed = await freePort(host);

    const cases: Array<[string, CheckSpec, RegExp]> = [
      ['refused', { type: 'tcp', label: 'tcp-refused', host, port: closed, passive: false }, /^tcp-refused: .*ECONNREFUSED/],
      ['status', { type: 'http', label: 'http-status', url: `http://${host}:${webPort}/503`, method: 'GET', expectStatus: [[200, 299]], headers: {}, tlsSkipVerify: false, passive: false }, /^http-status: .*503 not in 200-299/],
      ['body', { type: 'http', label: 'http-body', url: `http://${host}:${webPort}/ok`, method: 'GET', expectStatus: [[200, 299]], bodyContains: 'healthy', headers: {}, tlsSkipVerify: false, passive: false }, /^http-body: .*does not contain "healthy"/],
      ['timeout', { type: 'http', label: 'http-timeout', url: `http://${host}:${webPort}/hang`, method: 'GET', expectStatus: [[200, 299]], headers: {}, tlsSkipVerify: false, passive: false }, /^http-timeout: .*(abort|timeout)/i],
      ['missing', { type: 'exec', label: 'exec-missing', command: ['/nonexistent/vipcast-check', '--quick'], passive: false }, /^exec-missing: .*ENOENT.*\/nonexistent\/vipcast-check/],
      ['nxdomain', { type: 'dns', label: 'dns-nx', host: dns.host, port: dns.port, name: 'missing.test', record: 'A', passive: false }, /^dns-nx: .*NXDOMAIN/],
      ['notserving', { type: 'grpc', label: 'grpc-batch', host: grpc.host, port: grpc.port, service: 'batch', tls: false, tlsSkipVerify: false, passive: false }, /^grpc-batch: .*NOT_SERVING/],
    ];
    const vips = cases.map(([name, check], i) => vipConfig(name, 20 + i, { policy, checks: [{ ...check, timeoutMs: policy.timeoutMs }] }));
    for (const [name, , reason] of cases) expected.set(name, reason);
    app = new Vipcast(appConfig({ vips, shutdown: { gracefulCommunity: false, gracePeriodMs: 0 } }), {
      logger: silentLogger,
      metrics: new Metrics(),
      createBackend: () => new RecordingBackend(),
      createHealth: (v, o) => new HealthEngine(v, { logger: o.logger, onCheckResult: o.onCheckResult }),
    });
    base = `http://127.0.0.1:${(await app.start()).adminPort}`;
  });

  afterAll(async () => {
    await app?.shutdown();
    web?.closeAllConnections();
    await new Promise((resolve) => web?.close(resolve));
    await dns?.close();
    grpc?.kill();
  });

  it('GET /v1/vips: each VIP down, its reason naming the failing check and the cause', async () => {
    type Row = { name: string; state: string; healthy: boolean; advertised: boolean; reason: string };
    let last: Row[] = [];
    const rows = await waitFor(
      async () => {
        last = (await (await fetch(`${base}/v1/vips`)).json()) as Row[];
        return last.every((r) => expected.get(r.name)?.test(r.reason)) ? last : undefined;
      },
      { timeoutMs: 15_000, what: () => `every reason to match (last: ${JSON.stringify(last)})` },
    );
    expect(rows.map((r) => r.name).sort()).toEqual([...expected.keys()].sort());
    for (const r of rows) expect(r, r.name).toMatchObject({ state: 'down', healthy: false, advertised: false });
  });

  it('the health loop keeps completing rounds with every check failing: /healthz 200', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { reason: string }).reason).toMatch(/completed a round/);
  });
});
