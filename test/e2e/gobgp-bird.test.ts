/**
 * End to end with the GoBGP backend: `vipcast run` drives Debian's gobgpd 3.10 (a bare daemon:
 * manage: true configures it) which peers with a real BIRD 2. Assertions read BIRD's RIB and
 * `gobgp global rib`, never vipcast's logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bird, hasBird } from '../harness/bird.js';
import { Gobgpd, gobgpVersions } from '../harness/gobgpd.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { closeServer, httpBackend } from '../harness/http-backend.js';
import { hasBuild, VipcastProcess } from '../harness/vipcast.js';
import { waitFor } from '../harness/wait.js';
import { BIRD_STRICT_BIND, birdListening } from '../gobgp/fixtures.js';

const VIP = '198.51.100.20/32';
const debian = gobgpVersions()[0]?.binary;

describe.skipIf(!hasBird() || !hasBuild() || !debian)('vipcast run + GoBGP 3.10 sidecar -> real BIRD 2', () => {
  const birdAddr = loopbackAddress();
  const gobgpAddr = loopbackAddress();
  let bird: Bird;
  let gobgpd: Gobgpd;
  let dir: string;
  let config: string;
  let backend: Server | undefined;
  let backendPort: number;
  let vipcast: VipcastProcess;
  let spawnedAt = 0;

  const vipAtBird = async (): Promise<string | undefined> => (await bird.routes('master4', 'vc')).find((r) => r.prefix === VIP)?.detail;
  const vipInGobgp = async (): Promise<boolean> => (await gobgpd.rib('ipv4')).some((p) => p.prefix === VIP);

  beforeAll(async () => {
    const birdPort = await freePort(birdAddr);
    backendPort = await freePort();
    const adminPort = await freePort();
    dir = await mkdtemp(join(tmpdir(), 'vipcast-e2e-gobgp-'));
    bird = await Bird.start({
      routerId: '10.255.0.2',
      config: `
protocol static st4 { ipv4; route 198.18.0.0/15 via "lo"; }
protocol bgp vc {
  local ${birdAddr} port ${birdPort} as 65000;
  neighbor ${gobgpAddr} as 65001;
  passive on;
  ${BIRD_STRICT_BIND}
  multihop;
  hold time 9;
  ipv4 { import all; export none; };
}`,
    });
    await birdListening(bird, ['vc']);
    gobgpd = await Gobgpd.start({ binary: debian!, logLevel: 'debug' });
    backend = await httpBackend('127.0.0.1', backendPort);
    config = join(dir, 'vipcast.yaml');
    await writeFile(
      config,
      `
bgp:
  local_as: 65001
  router_id: ${gobgpAddr}
  gobgp_address: ${gobgpd.apiAddress}
  gobgp: { manage: true, resync_interval: 2s }
  listen: { address: ${gobgpAddr}, port: ${await freePort(gobgpAddr)} }
  hold_time: 9s
  next_hop: { ipv4: 198.18.0.2 }
  neighbors:
    - { address: ${birdAddr}, port: ${birdPort}, remote_as: 65000, local_address: ${gobgpAddr}, ebgp_multihop: 2 }
health: { interval: 200ms, fast_interval: 100ms, timeout: 150ms, rise: 1, fall: 1 }
vips:
  - name: web
    prefix: ${VIP}
    checks: [{ type: http, url: "http://127.0.0.1:${backendPort}/" }]
    attributes: { communities: ["65001:100"], med: 10, as_path_prepend: 1 }
shutdown: { graceful_community: true, grace_period: 1s }
admin: { listen: "127.0.0.1:${adminPort}" }
log: { level: debug }
`,
    );
    vipcast = new VipcastProcess(['run', '--config', config]);
    spawnedAt = Date.now();
  });

  afterAll(async () => {
    await vipcast?.stop('SIGKILL');
    if (backend) await closeServer(backend);
    await gobgpd?.stop();
    await bird?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('configures the bare daemon and the VIP reaches BIRD with its attributes', async () => {
    const detail = await waitFor(vipAtBird, { timeoutMs: 30_000, what: () => `VIP at BIRD via gobgpd (vipcast log: ${vipcast.output.slice(-3000)})` });
    // For reading, not asserting: 3.10's first connect after AddPeer comes 5-9 s later whatever
    // vipcast configures (its connect loop starts at a fixed 5 s plus up to 4 s of jitter).
    const fsm = gobgpd.log.split('\n').filter((l) => /gobgpd started|Add a peer|try to connect|failed to connect|state changed|sent update/.test(l));
    console.log(`[e2e gobgp 3.10] first route at BIRD ${Date.now() - spawnedAt} ms after vipcast was spawned\n${fsm.join('\n')}`);
    expect(detail).toContain('BGP.community: (65001,100)');
    expect(detail).toContain('BGP.med: 10');
    expect(detail).toContain('BGP.as_path: 65001 65001');
  });

  it('withdraws through gobgpd when the backend dies', async () => {
    await closeServer(backend!);
    backend = undefined;
    await waitFor(async () => (await vipAtBird()) === undefined, { timeoutMs: 10_000, what: 'withdraw at BIRD' });
    expect(await vipInGobgp()).toBe(false);
    backend = await httpBackend('127.0.0.1', backendPort);
    await waitFor(vipAtBird, { timeoutMs: 10_000, what: 're-advertise' });
  });

  it('after kill -9 and a restart, a VIP that went down meanwhile is removed on the first reconcile', async () => {
    await vipcast.stop('SIGKILL');
    // The sidecar keeps advertising for a dead controller (the fail-safe's job in Kubernetes).
    expect(await vipInGobgp()).toBe(true);
    await closeServer(backend!);
    backend = undefined;
    vipcast = new VipcastProcess(['run', '--config', config]);
    await waitFor(async () => !(await vipInGobgp()), { timeoutMs: 15_000, what: () => `stale path removed (log: ${vipcast.output.slice(-2000)})` });
    await waitFor(async () => (await vipAtBird()) === undefined, { timeoutMs: 10_000, what: 'stale route gone at BIRD' });
    backend = await httpBackend('127.0.0.1', backendPort);
    await waitFor(vipAtBird, { timeoutMs: 15_000, what: 're-advertise after restart' });
  });

  it('SIGTERM: GRACEFUL_SHUTDOWN at BIRD, then withdrawn from gobgpd and BIRD, exit 0', async () => {
    vipcast.signal('SIGTERM');
    await waitFor(async () => (await vipAtBird())?.includes('(65535,0)'), { timeoutMs: 5_000, what: 'RFC 8326 community at BIRD' });
    const { code } = await vipcast.waitExit(20_000);
    expect(code).toBe(0);
    // Confirmed before exit: the daemon's own RIB no longer holds it.
    expect(await vipInGobgp()).toBe(false);
    await waitFor(async () => (await vipAtBird()) === undefined, { timeoutMs: 10_000, what: 'withdraw at BIRD' });
  });
});
