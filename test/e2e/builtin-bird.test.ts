/**
 * End to end (issue 2): `vipcast run` with the built-in speaker peered with a real BIRD 2 on
 * loopback. Every assertion reads BIRD's own RIB (`birdc show route all`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bird, hasBird } from '../harness/bird.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { closeServer, httpBackend } from '../harness/http-backend.js';
import { hasBuild, VipcastProcess } from '../harness/vipcast.js';
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

  async function vipRoute(): Promise<string | undefined> {
    const routes = await bird.routes('master4', 'vc');
    return routes.find((r) => r.prefix === VIP)?.detail;
  }

  beforeAll(async () => {
    const birdPort = await freePort(birdAddr);
    backendPort = await freePort(backendAddr);
    const adminPort = await freePort();
    dir = await mkdtemp(join(tmpdir(), 'vipcast-e2e-'));
    drainFile = join(dir, 'drain-web');
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
  multihop;
  hold time 9;
  ipv4 { import all; export none; };
}`,
    });
    backend = await httpBackend(backendAddr, backendPort);
    const config = join(dir, 'vipcast.yaml');
    await writeFile(
      config,
      `
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
    attributes: { communities: ["65001:100"], large_communities: ["65001:1:2"], med: 10 }
    drain_file: ${drainFile}
shutdown:
  graceful_community: true
  grace_period: 1500ms
admin:
  listen: 127.0.0.1:${adminPort}
log: { level: debug }
`,
    );
    vipcast = new VipcastProcess(['run', '--config', config]);
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

  it('SIGTERM: GRACEFUL_SHUTDOWN first, then withdraw, then exit 0', async () => {
    vipcast.signal('SIGTERM');
    await waitFor(async () => (await vipRoute())?.includes('(65535,0)'), { timeoutMs: 5_000, what: 'RFC 8326 community at BIRD' });
    await waitFor(async () => (await vipRoute()) === undefined, { timeoutMs: 10_000, what: 'withdraw on SIGTERM' });
    const { code } = await vipcast.waitExit(15_000);
    expect(code).toBe(0);
  });
});
