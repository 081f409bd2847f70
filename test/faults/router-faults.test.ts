/**
 * Session and process faults with the built-in speaker (issue 6), asserted at a real BIRD 2:
 * vipcast SIGKILLed and restarted while its VIP changed state, the router restarting, the
 * router's hold timer path (BIRD SIGSTOPped longer than the 3 s hold time), two SIGTERMs, and
 * SIGTERM while the router is gone. Times to converge are printed with a "[faults]" prefix and
 * recorded in docs/reliability.md.
 *
 * Every SIGSTOP is paired with a SIGCONT in a finally block and again in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBird } from '../harness/bird.js';
import { hasBuild } from '../harness/vipcast.js';
import { sleep, waitFor } from '../harness/wait.js';
import { birdStats, httpGet, waitAdmin, waitRoute } from './lib/fixture.js';
import { Rig } from './lib/rig.js';

const VIP = '198.51.100.64/32';
const GRACE_MS = 2_000;

const report = (what: string, ms: number): void => console.info(`[faults] builtin: ${what}: ${ms} ms`);

describe.skipIf(!hasBird() || !hasBuild())('router and process faults, built-in speaker -> BIRD', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await Rig.start({
      tag: 'router',
      vip: VIP,
      holdSec: 3,
      birdHoldSec: 3,
      extra: `shutdown: { graceful_community: true, grace_period: ${GRACE_MS}ms }`,
    });
  });

  afterAll(async () => {
    rig?.bird.signal('SIGCONT');
    await rig?.stop();
  });

  async function peerState(): Promise<string | undefined> {
    const peers = JSON.parse((await httpGet(rig.adminPort, '/v1/peers')).body) as Array<{ state: string }>;
    return peers[0]?.state;
  }

  it('vipcast SIGKILLed and NOT restarted: the router drops the VIP on its own (no graceful-restart retention)', async () => {
    await waitRoute(rig.bird, 'vc', VIP, true, 20_000);
    const t0 = Date.now();
    rig.vipcast.signal('SIGKILL');
    await rig.vipcast.exited;
    // The kernel resets the TCP session; because the speaker advertises graceful restart with no
    // address families (RFC 4724 §3), BIRD must not keep our routes as stale: they go at once.
    await waitRoute(rig.bird, 'vc', VIP, false, 10_000);
    report('SIGKILL, no restart: route gone at BIRD after', Date.now() - t0);
    rig.launch();
    await waitAdmin(rig.vipcast, rig.adminPort);
    await waitRoute(rig.bird, 'vc', VIP, true, 20_000);
  });

  it('vipcast SIGKILLed, its VIP goes down meanwhile, restarted: the route is gone at the first reconnect', async () => {
    rig.vipcast.signal('SIGKILL');
    await rig.vipcast.exited;
    await rig.target.down();
    const t0 = Date.now();
    rig.launch();
    await waitAdmin(rig.vipcast, rig.adminPort);
    // The restarted speaker sends its (empty) table and End-of-RIB (RFC 4724 §4.2): BIRD flushes the stale route.
    await waitRoute(rig.bird, 'vc', VIP, false, 20_000);
    report('SIGKILL + restart with the VIP now down: stale route gone after relaunch', Date.now() - t0);
    await rig.target.up();
    const t1 = Date.now();
    await waitRoute(rig.bird, 'vc', VIP, true, 10_000);
    report('backend back: route re-advertised', Date.now() - t1);
  });

  it('the router restarts: the VIP is back at the new BIRD', async () => {
    const t0 = Date.now();
    await rig.bird.restart();
    const up = Date.now();
    await waitRoute(rig.bird, 'vc', VIP, true, 30_000);
    report('BIRD restart: VIP back after BIRD was up', Date.now() - up);
    report('BIRD restart: total (incl. BIRD start)', Date.now() - t0);
  });

  it('hold timer: BIRD stopped 6 s (hold 3 s), the VIP goes down meanwhile; after SIGCONT BIRD converges to absent, then present', async () => {
    await waitFor(async () => (await birdStats(rig.bird, 'vc')).state === 'Established', { timeoutMs: 10_000, what: 'BIRD session up' });
    rig.bird.signal('SIGSTOP');
    let contAt: number;
    try {
      const stoppedAt = Date.now();
      // vipcast's hold timer (3 s) must take the session down: /v1/peers leaves established.
      await waitFor(async () => (await peerState()) !== 'established', { timeoutMs: 8_000, intervalMs: 100, what: 'vipcast to drop the session on hold timer expiry' });
      report('hold timer: vipcast dropped the silent router after', Date.now() - stoppedAt);
      await rig.target.down();
      await sleep(Math.max(0, 6_000 - (Date.now() - stoppedAt)));
    } finally {
      rig.bird.signal('SIGCONT');
      contAt = Date.now();
    }
    await waitFor(async () => (await birdStats(rig.bird, 'vc')).state === 'Established', { timeoutMs: 30_000, intervalMs: 50, what: 'session re-established after SIGCONT' });
    await waitRoute(rig.bird, 'vc', VIP, false, 5_000);
    report('hold timer: after SIGCONT, session re-established and VIP absent (changed while down)', Date.now() - contAt);
    await rig.target.up();
    const t1 = Date.now();
    await waitRoute(rig.bird, 'vc', VIP, true, 10_000);
    report('hold timer: backend back, route present', Date.now() - t1);
  });

  it('two SIGTERMs: the first starts the ordered shutdown (RFC 8326 community at BIRD), the second exits at once', async () => {
    await waitRoute(rig.bird, 'vc', VIP, true, 10_000);
    rig.vipcast.signal('SIGTERM');
    await waitFor(async () => (await rig.bird.routes('master4', 'vc')).find((r) => r.prefix === VIP)?.detail.includes('(65535,0)'), {
      timeoutMs: 5_000,
      what: 'GRACEFUL_SHUTDOWN community at BIRD',
    });
    const t0 = Date.now();
    rig.vipcast.signal('SIGTERM');
    const { code } = await rig.vipcast.waitExit(5_000);
    const ms = Date.now() - t0;
    report('second SIGTERM: exit after', ms);
    expect(code).toBe(130);
    expect(ms).toBeLessThan(GRACE_MS);
  });

  it('SIGTERM while the router is gone (vipcast reconnecting): exits 0 within the grace period plus 3 s', async () => {
    rig.launch();
    await waitAdmin(rig.vipcast, rig.adminPort);
    await waitRoute(rig.bird, 'vc', VIP, true, 20_000);
    rig.bird.signal('SIGKILL');
    await waitFor(async () => (await peerState()) !== 'established', { timeoutMs: 10_000, intervalMs: 100, what: 'vipcast to see the router gone' });
    await sleep(1_500); // inside the reconnect backoff
    const t0 = Date.now();
    rig.vipcast.signal('SIGTERM');
    const { code } = await rig.vipcast.waitExit(GRACE_MS + 10_000);
    const ms = Date.now() - t0;
    report(`SIGTERM during reconnect: exit ${code} after`, ms);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(GRACE_MS + 3_000);
  });
});
