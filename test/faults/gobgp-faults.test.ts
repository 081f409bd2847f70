/**
 * Faults with the GoBGP backend (issue 6), asserted at a real BIRD 2 peered with gobgpd: gobgpd
 * killed and restarted (vipcast restores global, neighbor and paths), gobgpd hung by SIGSTOP for
 * a few seconds (shorter than the hold time: nothing may move at BIRD), and vipcast SIGKILLed and
 * restarted while its VIP went down (the stale path goes on the first reconcile).
 *
 * Quick profile: Debian's gobgpd 3.10. Long profile: every version the harness finds (the pinned
 * v3 and v4 builds too). Every SIGSTOP is paired with a SIGCONT in a finally and in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { hasBird, type Bird } from '../harness/bird.js';
import { Gobgpd, gobgpVersions, type GobgpBinary } from '../harness/gobgpd.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { hasBuild, VipcastProcess } from '../harness/vipcast.js';
import { sleep, waitFor } from '../harness/wait.js';
import { birdStats, FAST_HEALTH, LONG, startBird, TcpTarget, tempDir, waitAdmin, waitRoute, writeText } from './lib/fixture.js';

const VIP = '198.51.100.69/32';
const found = gobgpVersions().filter((v) => v.binary);
const versions = (LONG ? found : found.slice(0, 1)).map((v) => v.binary!);

describe.skipIf(!hasBird() || !hasBuild() || versions.length === 0).each(versions)('GoBGP $label faults -> BIRD', (binary: GobgpBinary) => {
  const gobgpAddr = loopbackAddress();
  const birdAddr = loopbackAddress();
  let bird: Bird;
  let gobgpd: Gobgpd;
  let target: TcpTarget;
  let dir: string;
  let config: string;
  let adminPort: number;
  let vipcast: VipcastProcess;

  const report = (what: string, ms: number): void => console.info(`[faults] gobgp ${binary.label}: ${what}: ${ms} ms`);
  const inGobgp = async (): Promise<boolean> => (await gobgpd.rib('ipv4')).some((p) => p.prefix === VIP);

  beforeAll(async () => {
    dir = await tempDir('gobgp');
    target = await TcpTarget.create();
    const b = await startBird('10.255.6.2', birdAddr, [{ name: 'vc', neighbor: gobgpAddr, neighborAs: 65001, holdTimeSec: 9 }]);
    bird = b.bird;
    gobgpd = await Gobgpd.start({ binary });
    adminPort = await freePort();
    config = await writeText(
      dir,
      'vipcast.yaml',
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
    - { address: ${birdAddr}, port: ${b.port}, remote_as: 65000, local_address: ${gobgpAddr}, ebgp_multihop: 2 }
${FAST_HEALTH}
vips:
  - name: web
    prefix: ${VIP}
    checks: [{ type: tcp, address: "${target.address}" }]
shutdown: { graceful_community: false, grace_period: 0s }
admin: { listen: "127.0.0.1:${adminPort}" }
log: { level: warn }
`,
    );
    vipcast = new VipcastProcess(['run', '--config', config]);
    await waitAdmin(vipcast, adminPort);
    await waitRoute(bird, 'vc', VIP, true, 30_000);
  });

  afterAll(async () => {
    gobgpd?.signal('SIGCONT');
    await vipcast?.stop('SIGKILL');
    await gobgpd?.stop();
    await bird?.stop();
    await target?.down();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gobgpd killed and restarted: vipcast restores global, neighbor and path; the VIP is back at BIRD', async () => {
    await gobgpd.kill('SIGKILL');
    await waitRoute(bird, 'vc', VIP, false, 15_000);
    const t0 = Date.now();
    await gobgpd.launch();
    const up = Date.now();
    await waitFor(inGobgp, { timeoutMs: 15_000, intervalMs: 50, what: `path restored in gobgpd (log: ${vipcast.output.slice(-2000)})` });
    report('gobgpd restart: path back in gobgpd after its API answered', Date.now() - up);
    await waitRoute(bird, 'vc', VIP, true, 20_000);
    report('gobgpd restart: VIP back at BIRD after the restart began', Date.now() - t0);
  });

  it('gobgpd hung 3 s (SIGSTOP, below the 9 s hold time): nothing moves at BIRD, vipcast keeps running', async () => {
    await waitFor(async () => (await birdStats(bird, 'vc')).state === 'Established', { timeoutMs: 15_000, what: 'BIRD session up' });
    const before = await birdStats(bird, 'vc');
    gobgpd.signal('SIGSTOP');
    try {
      await sleep(3_000);
    } finally {
      gobgpd.signal('SIGCONT');
    }
    await sleep(2_500); // a resync interval after the daemon answers again
    expect(vipcast.proc.exitCode).toBeNull();
    const after = await birdStats(bird, 'vc');
    expect([after.state, after.importUpdates, after.importWithdraws]).toEqual(['Established', before.importUpdates, before.importWithdraws]);
    expect(await inGobgp()).toBe(true);
  });

  it('vipcast SIGKILLed, its VIP goes down meanwhile, restarted: the stale path goes on the first reconcile', async () => {
    vipcast.signal('SIGKILL');
    await vipcast.exited;
    // The sidecar keeps advertising for a dead controller: that is what the fail-safe is for.
    expect(await inGobgp()).toBe(true);
    await target.down();
    const t0 = Date.now();
    vipcast = new VipcastProcess(['run', '--config', config]);
    await waitFor(async () => !(await inGobgp()), { timeoutMs: 15_000, intervalMs: 50, what: 'stale path removed from gobgpd' });
    await waitRoute(bird, 'vc', VIP, false, 10_000);
    report('vipcast SIGKILL + restart with the VIP down: stale route gone at BIRD after relaunch', Date.now() - t0);
    await target.up();
    await waitRoute(bird, 'vc', VIP, true, 15_000);
  });
});
