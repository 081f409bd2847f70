import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { AdminServer, MAX_BODY_BYTES, tokenMatches, type AdminSource } from '../../src/admin/server.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { silentLogger } from '../../src/log/logger.js';
import type { VipView } from '../../src/manager/bgp-manager.js';

const TOKEN = 's3cret-token';

function vip(name: string): VipView {
  return { name, prefix: '192.0.2.10/32', healthy: true, advertised: true, state: 'up', reason: 'ok', since: new Date(0).toISOString(), detector: 'periodic', drained_by: [] };
}

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function call(port: number, method: string, path: string, opts: { token?: string; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

describe('admin API', () => {
  const drained: string[] = [];
  let live = { ok: true, reason: 'health loop ran 0.1s ago' };
  let tokenValue: string | undefined = TOKEN;
  const metrics = new Metrics();
  metrics.vipAdvertised.set({ vip: 'web' }, 1);
  const source: AdminSource = {
    vips: () => [vip('web')],
    peers: () => [{ address: '127.0.0.2', port: 179, remoteAs: 65000, state: 'established', since: new Date(0) }],
    readiness: () => ({ ready: false, reason: 'GoBGP unreachable: connect ECONNREFUSED' }),
    liveness: () => live,
    drain: (name) => name === 'web' && drained.push(`drain ${name}`) > 0,
    undrain: (name) => name === 'web' && drained.push(`undrain ${name}`) > 0,
    registry: metrics.registry,
  };
  const server = new AdminServer(source, { host: '127.0.0.1', port: 0, token: () => tokenValue, logger: silentLogger });
  let port = 0;

  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close());

  it('serves liveness and readiness with their reason', async () => {
    expect((await call(port, 'GET', '/healthz')).status).toBe(200);
    live = { ok: false, reason: 'no health round completed in 3 intervals' };
    const hz = await call(port, 'GET', '/healthz');
    expect(hz.status).toBe(503);
    expect(JSON.parse(hz.body)).toMatchObject({ reason: 'no health round completed in 3 intervals' });
    live = { ok: true, reason: 'ok' };
    const rz = await call(port, 'GET', '/readyz');
    expect(rz.status).toBe(503);
    expect(rz.body).toContain('ECONNREFUSED');
  });

  it('serves Prometheus metrics and JSON state', async () => {
    const m = await call(port, 'GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.body).toContain('vipcast_vip_advertised{vip="web"} 1');
    expect(JSON.parse((await call(port, 'GET', '/v1/vips')).body)).toEqual([vip('web')]);
    expect(JSON.parse((await call(port, 'GET', '/v1/peers')).body)[0]).toMatchObject({ address: '127.0.0.2', remote_as: 65000, state: 'established' });
    expect((await call(port, 'GET', '/v1/vips/web')).status).toBe(200);
    expect((await call(port, 'GET', '/v1/vips/nope')).status).toBe(404);
  });

  it('refuses mutations without a token, with a wrong token, and when no token is configured', async () => {
    expect((await call(port, 'POST', '/v1/vips/web/drain')).status).toBe(401);
    expect((await call(port, 'POST', '/v1/vips/web/drain', { token: 'wrong' })).status).toBe(401);
    tokenValue = undefined;
    expect((await call(port, 'POST', '/v1/vips/web/drain', { token: TOKEN })).status).toBe(403);
    tokenValue = TOKEN;
    expect(drained).toEqual([]);
  });

  it('drains and undrains with the token; unknown names are 404', async () => {
    expect((await call(port, 'POST', '/v1/vips/web/drain', { token: TOKEN })).status).toBe(202);
    expect((await call(port, 'POST', '/v1/vips/web/undrain', { token: TOKEN })).status).toBe(202);
    expect((await call(port, 'POST', '/v1/vips/other/drain', { token: TOKEN })).status).toBe(404);
    expect(drained).toEqual(['drain web', 'undrain web']);
  });

  it('rejects path tricks, wrong methods and oversized bodies', async () => {
    for (const path of ['/v1/vips/..%2Fweb/drain', '/v1/vips/%2e%2e/drain', '/v1/vips/WEB/drain', '/v1/vips/web%00/drain', '/v1/vips/%E0%A4%A/drain']) {
      expect((await call(port, 'POST', path, { token: TOKEN })).status, path).toBe(404);
    }
    expect((await call(port, 'POST', '/v1/vips/web/drain/extra', { token: TOKEN })).status).toBe(404);
    expect((await call(port, 'GET', '/v1/vips/web/drain', { token: TOKEN })).status).toBe(405);
    expect((await call(port, 'DELETE', '/v1/vips', { token: TOKEN })).status).toBe(405);
    const big = await call(port, 'POST', '/v1/vips/web/drain', { token: TOKEN, body: 'x'.repeat(MAX_BODY_BYTES + 1) });
    expect(big.status).toBe(413);
    expect(drained).toEqual(['drain web', 'undrain web']);
  });

  it('compares tokens exactly', () => {
    expect(tokenMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(tokenMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(tokenMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN, TOKEN)).toBe(false);
    expect(tokenMatches(undefined, TOKEN)).toBe(false);
  });
});
