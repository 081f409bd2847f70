/**
 * End to end (issue 2): `vipcast run` with the built-in speaker peered with a real BIRD 2 on
 * loopback. Every assertion reads BIRD's own RIB (`birdc show route all`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bird, hasBird } from '../harness/bird.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { closeServer, httpBackend } from '../harness/http-backend.js';
import { hasBuild, VIPCAST_BIN, VipcastProcess } from '../harness/vipcast.js';
import { waitFor } from '../harness/wait.js';

const VIP = '198.51.100.10/32';

describe.skipIf(!hasBird() || !hasBuild())('vipcast run + built-in speaker -> real BIRD 2', () => {
  const birdAddr = loopbackAddress();
  const ourAddr = loopbackAddress();
  const backendAddr = '127.0.0.1';
  let bird: Bird;
  let dir: string;
  let backend: Server | undefined;
  let backendPort: number;
  let vipcast: VipcastProcess;
  let drainFile: string;
  let tokenFile: string;
  let adminPort: number;
  let renderConfig: (med: number) => string;
  let generation = 0;

  /**
   * Mounts the config the way the kubelet mounts a ConfigMap: vipcast.yaml -> ..data/vipcast.yaml,
   * ..data -> ..<generation>; an update writes a new generation and swaps ..data atomically.
   */
  async function publishConfig(text: string): Promise<void> {
    const gen = `..gen_${++generation}`;
    await mkdir(join(dir, 'config', gen), { recursive: true });
    await writeFile(join(dir, 'config', gen, 'vipcast.yaml'), text);
    await symlink(gen, join(dir, 'config', '..data_tmp'));
    await rename(join(dir, 'config', '..data_tmp'), join(dir, 'config', '..data'));
  }

  function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [VIPCAST_BIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  async function vipRoute(): Promise<string | undefined> {
    const routes = await bird.routes('master4', 'vc');
    return routes.find((r) => r.prefix === VIP)?.detail;
  }

  beforeAll(async () => {
    const birdPort = await freePort(birdAddr);
    backendPort = await freePort(backendAddr);
    adminPort = await freePort();
    dir = await mkdtemp(join(tmpdir(), 'vipcast-e2e-'));
    drainFile = join(dir, 'drain-web');
    tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'first-token-0123456789\n');
    // BIRD refuses a directly connected eBGP neighbor on loopback, so the session is multihop
    // and our next hop (198.18.0.1) resolves through a static route inside BIRD only.
    bird = await Bird.start({
      routerId: '10.255.0.1',
      config: `
protocol static st4 { ipv4; route 198.18.0.0/15 via "lo"; }
protocol bgp vc {
  local ${birdAddr} port ${birdPort} as 65000;
  neighbor ${ourAddr} as 65001;
  passive on;
  strict bind yes;
  multihop;
  hold time 9;
  ipv4 { import all; export none; };
}`,
    });
    backend = await httpBackend(backendAddr, backendPort);
    renderConfig = (med: number) => `
bgp:
  local_as: 65001
  router_id: ${ourAddr}
  hold_time: 9s
  next_hop: { ipv4: 198.18.0.1 }
  neighbors:
    - address: ${birdAddr}
      port: ${birdPort}
      remote_as: 65000
      local_address: ${ourAddr}
      ebgp_multihop: 2
health:
  interval: 200ms
  fast_interval: 100ms
  timeout: 150ms
  rise: 1
  fall: 1
vips:
  - name: web
    prefix: ${VIP}
    checks:
      - { type: http, url: "http://${backendAddr}:${backendPort}/healthz" }
    attributes: { communities: ["65001:100"], large_communities: ["65001:1:2"], med: ${med} }
    drain_file: ${drainFile}
shutdown:
  graceful_community: true
  grace_period: 1500ms
admin:
  listen: 127.0.0.1:${adminPort}
  token_file: ${tokenFile}
log: { level: debug }
`;
    await mkdir(join(dir, 'config'));
    await publishConfig(renderConfig(10));
    await symlink('..data/vipcast.yaml', join(dir, 'config', 'vipcast.yaml'));
    vipcast = new VipcastProcess(['run', '--config', join(dir, 'config', 'vipcast.yaml')]);
  });

  afterAll(async () => {
    await vipcast?.stop('SIGKILL');
    if (backend) await closeServer(backend);
    await bird?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('advertises the VIP with its attributes once the check passes', async () => {
    const detail = await waitFor(vipRoute, { timeoutMs: 30_000, what: () => `VIP at BIRD (vipcast log: ${vipcast.output.slice(-3000)})` });
    expect(detail).toContain('BGP.community: (65001,100)');
    expect(detail).toContain('BGP.large_community: (65001, 1, 2)');
    expect(detail).toContain('BGP.med: 10');
    expect(detail).toContain('BGP.as_path: 65001');
  });

  it('withdraws when the HTTP backend stops and re-advertises when it returns', async () => {
    await closeServer(backend!);
    backend = undefined;
    await waitFor(async () => (await vipRoute()) === undefined, { timeoutMs: 10_000, what: 'withdraw after backend stop' });
    backend = await httpBackend(backendAddr, backendPort);
    await waitFor(vipRoute, { timeoutMs: 10_000, what: 're-advertise after backend start' });
  });

  it('drain file withdraws in order and its removal re-advertises', async () => {
    await writeFile(drainFile, '');
    await waitFor(async () => (await vipRoute())?.includes('(65535,0)'), { timeoutMs: 10_000, what: 'GRACEFUL_SHUTDOWN before the drain withdraw' });
    await waitFor(async () => (await vipRoute()) === undefined, { timeoutMs: 10_000, what: 'withdraw on drain file' });
    await rm(drainFile);
    const detail = await waitFor(vipRoute, { timeoutMs: 10_000, what: 're-advertise after drain file removal' });
    expect(detail).not.toContain('(65535,0)');
  });

  it('vipcast status shows the VIP up and the peer established', async () => {
    const { code, stdout } = await cli(['status', '--admin', `http://127.0.0.1:${adminPort}`]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`web\\s+${VIP.replace(/[./]/g, '\\$&')}\\s+up\\s+yes`));
    expect(stdout).toMatch(/established/);
  });

  it('vipcast drain / undrain through the admin API with the token; without it nothing moves', async () => {
    const admin = `http://127.0.0.1:${adminPort}`;
    const refused = await cli(['drain', 'web', '--admin', admin, '--token-file', drainFile + '.missing']);
    expect(refused.code).not.toBe(0);
    const wrong = join(dir, 'wrong-token');
    await writeFile(wrong, 'not-the-token');
    expect((await cli(['drain', 'web', '--admin', admin, '--token-file', wrong])).code).toBe(1);
    expect(await vipRoute()).toBeDefined();
    expect((await cli(['drain', 'web', '--admin', admin, '--token-file', tokenFile])).code).toBe(0);
    await waitFor(async () => (await vipRoute())?.includes('(65535,0)'), { timeoutMs: 5_000, what: 'GRACEFUL_SHUTDOWN on drain' });
    await waitFor(async () => (await vipRoute()) === undefined, { timeoutMs: 10_000, what: 'withdraw on drain' });
    expect((await cli(['undrain', 'web', '--admin', admin, '--token-file', tokenFile])).code).toBe(0);
    await waitFor(vipRoute, { timeoutMs: 10_000, what: 're-advertise on undrain' });
  });

  it('a ConfigMap-style ..data symlink swap reloads: the new MED reaches BIRD without a withdraw', async () => {
    const before = await bird.birdc('show protocols all vc');
    const withdraws = (text: string): number => Number(/Import withdraws:\s+(\d+)/.exec(text)?.[1] ?? NaN);
    await publishConfig(renderConfig(20));
    await waitFor(async () => (await vipRoute())?.includes('BGP.med: 20'), { timeoutMs: 10_000, what: 'MED 20 after the symlink swap' });
    expect(withdraws(await bird.birdc('show protocols all vc'))).toBe(withdraws(before));
  });

  it('SIGHUP reloads: a rotated admin token takes effect', async () => {
    await writeFile(tokenFile, 'second-token-0123456789\n');
    vipcast.signal('SIGHUP');
    const admin = `http://127.0.0.1:${adminPort}`;
    const newTokenFile = join(dir, 'token2');
    await writeFile(newTokenFile, 'second-token-0123456789');
    // The reload is asynchronous: the new token works within a bounded time; the old one stops.
    await waitFor(async () => (await cli(['undrain', 'web', '--admin', admin, '--token-file', newTokenFile])).code === 0, {
      timeoutMs: 10_000,
      what: 'the rotated token to be accepted after SIGHUP',
    });
    const old = join(dir, 'token-old');
    await writeFile(old, 'first-token-0123456789');
    expect((await cli(['undrain', 'web', '--admin', admin, '--token-file', old])).code).toBe(1);
  });

  it('SIGTERM: GRACEFUL_SHUTDOWN first, then withdraw, then exit 0', async () => {
    vipcast.signal('SIGTERM');
    await waitFor(async () => (await vipRoute())?.includes('(65535,0)'), { timeoutMs: 5_000, what: 'RFC 8326 community at BIRD' });
    await waitFor(async () => (await vipRoute()) === undefined, { timeoutMs: 10_000, what: 'withdraw on SIGTERM' });
    const { code } = await vipcast.waitExit(15_000);
    expect(code).toBe(0);
  });
});
