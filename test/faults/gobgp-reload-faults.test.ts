/**
 * Config reload and flapping with the GoBGP backend (issue 6), asserted at a real BIRD 2 through
 * its own counters (`show protocols all`: import updates / withdraws) and in gobgpd's RIB:
 * an invalid file changes nothing; a changed MED reaches BIRD as one UPDATE without a withdraw
 * (gobgpd replaces the path: same prefix, same path identifier); a removed VIP is withdrawn and
 * gone from gobgpd's RIB; a target flapping every 2 s under rise/fall and hold_down produces a
 * bounded number of UPDATEs at the router.
 *
 * Health: interval 1 s (no watchdog trip under CPU starvation), fast_interval 200 ms so that
 * rise/fall complete within a flap period. Quick profile: gobgpd 3.10; long: every version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBird } from '../harness/bird.js';
import { gobgpVersions, type GobgpBinary } from '../harness/gobgpd.js';
import { hasBuild } from '../harness/vipcast.js';
import { sleep, waitFor } from '../harness/wait.js';
import { assertAlive, birdStats, LONG, vipsView, waitRoute, type BirdStats } from './lib/fixture.js';
import { GobgpRig } from './lib/gobgp-rig.js';

const WEB = '198.51.100.72/32';
const API = '198.51.100.73/32';
const FLAPPY = '198.51.100.74/32';
const HOLD_DOWN_MS = 4_000;
const found = gobgpVersions().filter((v) => v.binary);
const versions = (LONG ? found : found.slice(0, 1)).map((v) => v.binary!);

describe.skipIf(!hasBird() || !hasBuild() || versions.length === 0).each(versions)('GoBGP $label: config reload and flapping -> BIRD', (binary: GobgpBinary) => {
  let rig: GobgpRig;
  const report = (what: string, v: number | string): void => console.info(`[faults] gobgp ${binary.label}: ${what}: ${v}`);

  const vips = (r: GobgpRig, med: number, withApi: boolean): string => `vips:
  - name: web
    prefix: ${WEB}
    checks: [{ type: tcp, address: "${r.target.address}" }]
    attributes: { med: ${med} }${
      withApi
        ? `
  - name: api
    prefix: ${API}
    checks: [{ type: tcp, address: "${r.target.address}" }]`
        : ''
    }
  - name: flappy
    prefix: ${FLAPPY}
    rise: 3
    fall: 3
    hold_down: ${HOLD_DOWN_MS}ms
    checks: [{ type: tcp, address: "${r.other.address}" }]`;

  async function med(prefix: string): Promise<string | undefined> {
    const route = (await rig.bird.routes('master4', 'vc')).find((r) => r.prefix === prefix);
    return /BGP\.med: (\d+)/.exec(route?.detail ?? '')?.[1];
  }

  const counters = (s: BirdStats): [string, number, number] => [s.state, s.importUpdates, s.importWithdraws];

  beforeAll(async () => {
    rig = await GobgpRig.start({ tag: 'gobgp-reload', binary, vip: WEB, routerId: '10.255.6.4', vips: (r) => vips(r, 10, true) });
    await waitRoute(rig.bird, 'vc', API, true, 15_000);
    await waitRoute(rig.bird, 'vc', FLAPPY, true, 15_000);
    await waitFor(async () => (await med(WEB)) === '10', { timeoutMs: 10_000, what: 'MED 10 at BIRD' });
  });

  afterAll(async () => {
    await rig?.stop();
  });

  it('an invalid file: nothing changes (no UPDATE at BIRD, gobgpd RIB and /v1/vips unchanged)', async () => {
    const before = await birdStats(rig.bird, 'vc');
    const view = await vipsView(rig.adminPort);
    const rib = (await rig.gobgpd.rib('ipv4')).map((p) => p.prefix).sort();
    for (const bad of ['bgp: [unclosed\n', rig.config(vips(rig, 10, true)).replace('local_as: 65001', 'local_as: 0'), '\x00\x01\x02']) {
      await rig.replaceConfig(bad);
      await sleep(1_500); // the watcher debounces 200 ms; give it ample time to (wrongly) act
      await assertAlive(rig.vipcast, rig.adminPort);
    }
    expect(counters(await birdStats(rig.bird, 'vc'))).toEqual(counters(before));
    expect((await vipsView(rig.adminPort)).map((v) => [v.name, v.state])).toEqual(view.map((v) => [v.name, v.state]));
    expect((await rig.gobgpd.rib('ipv4')).map((p) => p.prefix).sort()).toEqual(rib);
    expect(await med(WEB)).toBe('10');
  });

  it('a changed attribute (MED 10 -> 20): BIRD sees one UPDATE, no withdraw', async () => {
    const before = await birdStats(rig.bird, 'vc');
    const t0 = Date.now();
    await rig.replaceConfig(rig.config(vips(rig, 20, true)));
    await waitFor(async () => (await med(WEB)) === '20', { timeoutMs: 10_000, intervalMs: 25, what: 'MED 20 at BIRD' });
    report('reload: changed MED at BIRD after (ms)', Date.now() - t0);
    await sleep(2_500); // a resync interval: a repair that flapped the path would show now
    const after = await birdStats(rig.bird, 'vc');
    report('reload: MED change, UPDATEs/withdraws at BIRD', `${after.importUpdates - before.importUpdates}/${after.importWithdraws - before.importWithdraws}`);
    expect([after.state, after.importUpdates - before.importUpdates, after.importWithdraws - before.importWithdraws]).toEqual(['Established', 1, 0]);
  });

  it('a removed VIP: withdrawn at BIRD (one withdraw) and gone from gobgpd RIB; the others untouched', async () => {
    const before = await birdStats(rig.bird, 'vc');
    const t0 = Date.now();
    await rig.replaceConfig(rig.config(vips(rig, 20, false)));
    await waitRoute(rig.bird, 'vc', API, false, 10_000);
    report('reload: removed VIP withdrawn at BIRD after (ms)', Date.now() - t0);
    expect(await rig.inGobgp(API)).toBe(false);
    await sleep(2_500);
    const after = await birdStats(rig.bird, 'vc');
    expect([after.importUpdates - before.importUpdates, after.importWithdraws - before.importWithdraws]).toEqual([0, 1]);
    expect(await rig.inGobgp(WEB)).toBe(true);
    await waitRoute(rig.bird, 'vc', WEB, true, 1_000);
  });

  it(`flapping every 2 s (rise 3, fall 3, hold_down ${HOLD_DOWN_MS} ms): UPDATEs at BIRD bounded by the hold-down`, async () => {
    const windowMs = LONG ? 40_000 : 14_000;
    const before = await birdStats(rig.bird, 'vc');
    const t0 = Date.now();
    for (let i = 0; Date.now() - t0 < windowMs && i < 1_000; i++) {
      if (i % 2 === 0) await rig.other.down();
      else await rig.other.up();
      await sleep(2_000);
    }
    await rig.other.up();
    const after = await birdStats(rig.bird, 'vc');
    // The counting window is what elapsed between the two readings (longer than planned on a loaded box).
    const elapsed = Date.now() - t0;
    const updates = after.importUpdates - before.importUpdates;
    const withdraws = after.importWithdraws - before.importWithdraws;
    report(`flap 2 s for ${elapsed} ms (rise 3, fall 3, hold_down ${HOLD_DOWN_MS} ms): UPDATEs/withdraws at BIRD`, `${updates}/${withdraws}`);
    // The target was down for half the window: the route must have been withdrawn at least once
    // (else the test measured nothing), and re-advertised at most once per hold-down (+1 edge).
    expect(withdraws).toBeGreaterThanOrEqual(1);
    expect(updates).toBeLessThanOrEqual(Math.ceil(elapsed / HOLD_DOWN_MS) + 1);
    expect(withdraws).toBeLessThanOrEqual(updates + 1);
    await waitRoute(rig.bird, 'vc', FLAPPY, true, 15_000);
  });
});
