/**
 * FRR as the router (issue 6): a representative subset of the faults with the built-in speaker,
 * asserted from FRR bgpd's own view (`vtysh show bgp ipv4 unicast json`): the backend killed
 * (withdrawn), FRR restarted (back), vipcast SIGKILLed and not restarted (FRR's graceful-restart
 * helper must not retain the route: our capability lists no address families), SIGTERM
 * (re-advertised with GRACEFUL_SHUTDOWN 65535:0, then withdrawn, exit 0), and vipcast frozen
 * (SIGSTOP: FRR's hold timer must remove the route; back after SIGCONT).
 *
 * bgpd runs by hand without zebra (test/harness/peers/frr.ts, -Z): every next hop counts as
 * reachable. FRR refuses 127.x next hops, so vipcast advertises the configured 198.18.0.5.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { BGPD_BIN, Frr, frrConfig, frrSeen } from '../harness/peers/frr.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { hasBuild, VipcastProcess } from '../harness/vipcast.js';
import { waitFor } from '../harness/wait.js';
import { CALM_HEALTH, TcpTarget, tempDir, waitAdmin, writeText } from './lib/fixture.js';

const VIP = '198.51.100.75/32';
const NEXT_HOP = '198.18.0.5';
const GRACE_MS = 2_000;
/** Negotiated hold time: FRR's `timers 3 9` and our hold_time 9s. */
const HOLD_MS = 9_000;
const hasFrr = existsSync(BGPD_BIN) && existsSync('/usr/bin/vtysh');

const report = (what: string, ms: number): void => console.info(`[faults] builtin -> FRR: ${what}: ${ms} ms`);

describe.skipIf(!hasFrr || !hasBuild())('faults with FRR bgpd as the router, built-in speaker', () => {
  const ourAddr = loopbackAddress();
  const frrAddr = loopbackAddress();
  let frr: Frr;
  let target: TcpTarget;
  let dir: string;
  let configFile: string;
  let adminPort: number;
  let vipcast: VipcastProcess;

  const atFrr = async (): Promise<boolean> => (await frr.prefixes('ipv4')).includes(VIP);
  async function waitAtFrr(present: boolean, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    await waitFor(async () => (await atFrr()) === present, {
      timeoutMs,
      intervalMs: 50,
      what: () => `${VIP} ${present ? 'present' : 'absent'} at FRR (vipcast log: ${vipcast?.output.slice(-1_500)})`,
    });
    return Date.now() - t0;
  }
  const launch = async (): Promise<void> => {
    vipcast = new VipcastProcess(['run', '--config', configFile]);
    await waitAdmin(vipcast, adminPort);
  };

  beforeAll(async () => {
    dir = await tempDir('frr');
    target = await TcpTarget.create();
    const port = await freePort(frrAddr);
    frr = await Frr.start({ address: frrAddr, port, config: frrConfig(65000, 65001, [ourAddr]) });
    adminPort = await freePort();
    configFile = await writeText(
      dir,
      'vipcast.yaml',
      `
bgp:
  local_as: 65001
  router_id: ${ourAddr}
  hold_time: 9s
  next_hop: { ipv4: ${NEXT_HOP} }
  neighbors:
    - { address: ${frrAddr}, port: ${port}, remote_as: 65000, local_address: ${ourAddr} }
${CALM_HEALTH}
vips:
  - name: web
    prefix: ${VIP}
    checks: [{ type: tcp, address: "${target.address}" }]
admin: { listen: "127.0.0.1:${adminPort}" }
log: { level: info }
shutdown: { graceful_community: true, grace_period: ${GRACE_MS}ms }
`,
    );
    await launch();
    await waitAtFrr(true, 30_000);
  });

  afterAll(async () => {
    await vipcast?.stop('SIGKILL');
    await frr?.stop();
    await target?.down();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('advertised with our configured next hop; the backend killed: withdrawn at FRR', async () => {
    const path = (await frr.paths('ipv4', VIP))[0];
    expect(path && frrSeen(path).nextHop).toBe(NEXT_HOP);
    const t0 = Date.now();
    await target.down();
    await waitAtFrr(false, 10_000);
    report('backend killed (interval 1 s, fall 1, passive tcp check): withdrawn after', Date.now() - t0);
    await target.up();
    report('backend back: advertised after', await waitAtFrr(true, 15_000));
  });

  it('FRR restarts: the VIP is back at the new bgpd', async () => {
    const t0 = Date.now();
    await frr.restart();
    const up = Date.now();
    await waitAtFrr(true, 30_000);
    report('FRR restart: VIP back after bgpd was up', Date.now() - up);
    report('FRR restart: total incl. bgpd start', Date.now() - t0);
  });

  it("vipcast SIGSTOPped: FRR's hold timer (9 s) removes the VIP; back after SIGCONT", async () => {
    await waitAtFrr(true, 10_000);
    const t0 = Date.now();
    vipcast.signal('SIGSTOP');
    let gone: number;
    try {
      await waitAtFrr(false, HOLD_MS + 10_000);
      gone = Date.now() - t0;
      // FRR's own reason for the reset, from its neighbor view.
      const reset = (await frr.vtysh(`show bgp neighbors ${ourAddr}`)).split('\n').find((l) => /Last reset/.test(l))?.trim() ?? '';
      console.info(`[faults] builtin -> FRR: after SIGSTOP, FRR says: ${reset}`);
      expect(reset).toMatch(/Hold Timer Expired/i);
    } finally {
      vipcast.signal('SIGCONT');
    }
    report(`vipcast SIGSTOP: gone at FRR after (hold ${HOLD_MS} ms)`, gone);
    // The hold time counts from the last KEEPALIVE FRR heard (we send one every 3 s).
    expect(gone).toBeGreaterThan(HOLD_MS - 3_500);
    expect(gone).toBeLessThan(HOLD_MS + 3_000);
    report('vipcast SIGCONT: VIP back at FRR after', await waitAtFrr(true, 30_000));
  }, 60_000);

  it('vipcast SIGKILLed and not restarted: FRR drops the VIP (graceful restart must not retain it)', async () => {
    await waitAtFrr(true, 10_000);
    // The test means something only if FRR is a graceful-restart helper and saw our capability
    // (FRR's default global mode is helper): then retention is decided by our empty AF list.
    const neighbor = await frr.vtysh(`show bgp neighbors ${ourAddr}`);
    const gr = neighbor.split('\n').filter((l) => /graceful|restart/i.test(l)).map((l) => l.trim());
    console.info(`[faults] builtin -> FRR: graceful restart as FRR sees it: ${gr.join(' | ').slice(0, 600)}`);
    expect(gr.join('\n')).toContain('Graceful Restart Capability: advertised and received');
    const t0 = Date.now();
    vipcast.signal('SIGKILL');
    await vipcast.exited;
    await waitAtFrr(false, 10_000);
    const gone = Date.now() - t0;
    report('vipcast SIGKILL: route gone at FRR after', gone);
    // A retained stale route would stay for FRR's restart time (120 s by default).
    expect(gone).toBeLessThan(5_000);
    await launch();
    await waitAtFrr(true, 30_000);
  });

  it('SIGTERM: 65535:0 at FRR, then withdrawn, exit 0', async () => {
    await waitAtFrr(true, 10_000);
    const t0 = Date.now();
    vipcast.signal('SIGTERM');
    await waitFor(async () => (await frr.paths('ipv4', VIP)).some((p) => frrSeen(p).communities.includes('65535:0')), {
      timeoutMs: 5_000,
      intervalMs: 50,
      what: 'GRACEFUL_SHUTDOWN community at FRR',
    });
    report('SIGTERM: 65535:0 at FRR after', Date.now() - t0);
    await waitAtFrr(false, GRACE_MS + 10_000);
    report(`SIGTERM: withdrawn at FRR after (grace ${GRACE_MS} ms)`, Date.now() - t0);
    const { code } = await vipcast.waitExit(15_000);
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(GRACE_MS);
  });
});
