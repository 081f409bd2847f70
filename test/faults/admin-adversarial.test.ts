/**
 * Admin API adversarial input (issue 6) against a real `vipcast run` with a token file. Requests
 * go over raw TCP so that the path reaches vipcast exactly as written (fetch would normalise
 * dot segments and encodings). The one property that matters: without the token no request
 * drains anything, which is asserted where it counts: BIRD still holds the VIP and saw no
 * UPDATE (a drain would send one), and /v1/vips still says "up".
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { hasBird } from '../harness/bird.js';
import { hasBuild } from '../harness/vipcast.js';
import { assertAlive, birdStats, CALM_HEALTH, vipsView, waitRoute, type BirdStats } from './lib/fixture.js';
import { Rig } from './lib/rig.js';

const VIP = '198.51.100.63/32';
const TOKEN = 'f4ult-suite-t0ken-0123456789abcdef';

interface RawResponse {
  status: number;
  raw: string;
}

/**
 * One request over its own TCP connection; resolves when the server closes or after 5 s. A
 * server that answers early and closes while we still write may reset the connection, which can
 * discard its answer: that resolves with status 0 (only a refused connection rejects).
 */
function rawHttp(port: number, request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let raw = '';
    const timer = setTimeout(() => s.destroy(), 5_000);
    s.on('data', (d: Buffer) => (raw += d.toString('latin1')));
    s.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? reject(err) : undefined));
    s.on('close', () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      resolve({ status: m ? Number(m[1]) : 0, raw });
    });
    s.write(request);
  });
}

function request(method: string, path: string, headers: Record<string, string> = {}, body = ''): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body !== '' && headers['Transfer-Encoding'] === undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

const bearer = (t: string): Record<string, string> => ({ Authorization: `Bearer ${t}` });

describe.skipIf(!hasBird() || !hasBuild())('admin API adversarial input', () => {
  let rig: Rig;
  let baseline: BirdStats;

  beforeAll(async () => {
    rig = await Rig.start({ tag: 'admin', vip: VIP, token: TOKEN, health: CALM_HEALTH });
    baseline = await birdStats(rig.bird, 'vc');
  });

  afterAll(async () => {
    await rig?.stop();
  });

  /** Nothing was mutated: vipcast alive, the VIP up in /v1/vips and untouched at BIRD. */
  afterEach(async (ctx) => {
    if (ctx.task.name.startsWith('control')) return;
    await assertAlive(rig.vipcast, rig.adminPort);
    const [web] = await vipsView(rig.adminPort);
    expect(web).toMatchObject({ name: 'web', state: 'up', advertised: true });
    const now = await birdStats(rig.bird, 'vc');
    expect([now.state, now.importUpdates, now.importWithdraws]).toEqual(['Established', baseline.importUpdates, baseline.importWithdraws]);
    await waitRoute(rig.bird, 'vc', VIP, true, 1_000);
  });

  const post = (path: string, headers: Record<string, string> = {}, body = ''): Promise<RawResponse> =>
    rawHttp(rig.adminPort, request('POST', path, headers, body));

  describe('authentication', () => {
    it('no Authorization header: 401 for drain and undrain', async () => {
      expect((await post('/v1/vips/web/drain')).status).toBe(401);
      expect((await post('/v1/vips/web/undrain')).status).toBe(401);
    });

    it.each([
      ['a wrong token', bearer('wrong')],
      ['the token with a suffix', bearer(`${TOKEN}x`)],
      ['a prefix of the token', bearer(TOKEN.slice(0, -1))],
      ['the token followed by another word', bearer(`${TOKEN} extra`)],
      ['Basic scheme with the token', { Authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }],
      ['the token without a scheme', { Authorization: TOKEN }],
      ['an empty bearer', { Authorization: 'Bearer ' }],
      ['the token in another header', { 'X-Token': TOKEN }],
      ['a 8 KiB bearer', bearer('a'.repeat(8192))],
    ])('%s: 401', async (_what, headers) => {
      expect((await post('/v1/vips/web/drain', headers)).status).toBe(401);
    });

    it('the token in the query string: 401', async () => {
      expect((await post(`/v1/vips/web/drain?token=${TOKEN}`)).status).toBe(401);
      expect((await post(`/v1/vips/web/drain?access_token=${TOKEN}`)).status).toBe(401);
    });
  });

  describe('bodies', () => {
    it('a declared 10 MB body: 413 before reading it, even with the token', async () => {
      const r = await rawHttp(rig.adminPort, `POST /v1/vips/web/drain HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 10000000\r\n\r\n${'x'.repeat(1000)}`);
      expect(r.status).toBe(413);
    });

    it('a chunked body over 4096 bytes: 413, even with the token', async () => {
      const chunk = 'y'.repeat(3000);
      const body = `bb8\r\n${chunk}\r\nbb8\r\n${chunk}\r\n0\r\n\r\n`;
      const r = await post('/v1/vips/web/drain', { ...bearer(TOKEN), 'Transfer-Encoding': 'chunked' }, body);
      expect(r.status).toBe(413);
    });

    it('a 1 MB body without the token: 413 or 401 (or a reset while we still send), never a drain', async () => {
      const r = await post('/v1/vips/web/drain', {}, 'z'.repeat(1_000_000));
      expect([0, 401, 413]).toContain(r.status);
    });
  });

  describe('names and paths (with the token: only the exact path may act)', () => {
    it.each([
      ['an unknown VIP', '/v1/vips/nope/drain', 404],
      ['an encoded slash (reads as GET /v1/vips/NAME)', '/v1/vips/web%2Fdrain', 405],
      ['an encoded slash inside the name', '/v1/vips/w%2Feb/drain', 404],
      ['dot segments', '/v1/vips/../vips/web/drain', 404],
      ['a dot segment', '/v1/vips/./web/drain', 404],
      ['encoded dot segments', '/v1/vips/%2e%2e/vips/web/drain', 404],
      ['a double slash', '/v1//vips/web/drain', 404],
      ['a trailing slash', '/v1/vips/web/drain/', 404],
      ['a NUL in the name', '/v1/vips/web%00/drain', 404],
      ['a NUL before the action', '/v1/vips/web/drain%00', 404],
      ['upper case', '/V1/VIPS/WEB/DRAIN', 404],
      ['the name in upper case', '/v1/vips/WEB/drain', 404],
      ['a unicode look-alike name (Cyrillic e)', '/v1/vips/w%D0%B5b/drain', 404],
      ['an invalid percent encoding', '/v1/vips/web%zz/drain', 404],
      ['a 4 KiB name', `/v1/vips/${'a'.repeat(4096)}/drain`, 404],
      ['an absolute-form request target', 'http://127.0.0.1/v1/vips/nope/drain', 404],
      ['a backslash', '/v1/vips\\web/drain', 404],
    ])('%s (%s): %i', async (_what, path, status) => {
      expect((await post(path, bearer(TOKEN))).status).toBe(status);
    });

    it('a 100 KiB path: refused (414/431/400), no crash', async () => {
      const r = await post(`/v1/vips/${'b'.repeat(100_000)}/drain`, bearer(TOKEN));
      expect([400, 404, 414, 431]).toContain(r.status);
    });

    it('raw UTF-8 bytes in the request line: refused', async () => {
      const r = await rawHttp(rig.adminPort, Buffer.concat([Buffer.from('POST /v1/vips/w'), Buffer.from('é', 'utf8'), Buffer.from(`b/drain HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`)]));
      expect([400, 404]).toContain(r.status);
    });

    it('percent-encoded letters of the real name without the token: 401', async () => {
      expect((await post('/v1/vips/%77%65%62/drain')).status).toBe(401);
    });
  });

  describe('methods and garbage', () => {
    it.each(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('%s on a mutation path: 405 (even with the token)', async (method) => {
      const r = await rawHttp(rig.adminPort, request(method, '/v1/vips/web/drain', bearer(TOKEN)));
      expect(r.status).toBe(405);
    });

    it('POST on read paths: 405', async () => {
      for (const path of ['/healthz', '/v1/vips', '/v1/peers', '/metrics', '/v1/vips/web']) {
        expect((await post(path, bearer(TOKEN))).status, path).toBe(405);
      }
    });

    it('binary garbage instead of HTTP: 400 or closed, and the API still answers', async () => {
      const junk = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 131 + 7) % 256));
      const r = await rawHttp(rig.adminPort, junk);
      expect([0, 400]).toContain(r.status);
    });

    it('200 headers: refused or truncated, never a drain', async () => {
      const headers: Record<string, string> = {};
      for (let i = 0; i < 200; i++) headers[`X-H${i}`] = 'v';
      const r = await post('/v1/vips/web/drain', headers);
      expect([400, 401, 431]).toContain(r.status);
    });

    it('a half-sent request (slowloris) does not block other clients', async () => {
      const s = connect({ host: '127.0.0.1', port: rig.adminPort });
      s.on('error', () => undefined);
      s.write('POST /v1/vips/web/drain HTTP/1.1\r\nHost: x\r\n');
      const t0 = Date.now();
      expect((await rawHttp(rig.adminPort, request('GET', '/healthz'))).status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(2_000);
      s.destroy();
    });
  });

  describe('control: the token does work', () => {
    it('control: drain with the token withdraws at BIRD, undrain re-advertises', async () => {
      expect((await post('/v1/vips/web/drain', bearer(TOKEN))).status).toBe(202);
      await waitRoute(rig.bird, 'vc', VIP, false, 10_000);
      expect((await post('/v1/vips/web/undrain', bearer(TOKEN))).status).toBe(202);
      await waitRoute(rig.bird, 'vc', VIP, true, 10_000);
    });
  });
});
