/**
 * vipcast's health loop hangs inside a running process (issue 6: "the fail-safe must take the
 * routes down"). The fault is the `health-loop-hang` fail point (src/health/failpoints.ts),
 * switched by a file: while it exists, the VIP runners' timers and check results are held, so no
 * check is scheduled or settled, while the process, its admin API and its BGP sessions run on.
 * Until this fail point existed the only way to stop the loop was SIGSTOP of the whole process
 * (health-faults.test.ts), which also freezes the sessions.
 *
 * Asserted at the router:
 * - built-in speaker -> BIRD: /healthz turns 503 and vipcast's watchdog withdraws the VIP by an
 *   UPDATE on the live session (BIRD's session never drops: same "since", +1 withdraw); when the
 *   hang ends, the route comes back;
 * - GoBGP backend (Debian gobgpd 3.10; every version in the long profile) with the simulated kubelet (lib/kubelet-sim.ts) probing
 *   /healthz as the sidecar's livenessProbe: the route leaves BIRD, the probe loop restarts gobgpd
 *   and the fresh gobgpd does not bring it back while the loop is hung; after the hang it returns.
 *
 * Timing (health interval I): issue 2's rule, /healthz 503 once a VIP has completed no round for
 * 3 intervals. The last round completed before the hang, so /healthz is 503 at most 3 × I after
 * it (plus the 100 ms file poll), and the app's watchdog (every min(I, 1 s)) withdraws at most
 * min(I, 1 s) later: 4.1 s with I = 1 s; 7.1 s with the shipped defaults (I = 2 s, long profile).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasBird } from '../harness/bird.js';
import { gobgpVersions, type GobgpBinary } from '../harness/gobgpd.js';
import { hasBuild } from '../harness/vipcast.js';
import { sleep, waitFor } from '../harness/wait.js';
import { birdPrefixes, birdStats, CALM_HEALTH, httpGet, LONG, tempDir, vipsView, waitRoute } from './lib/fixture.js';
import { GobgpRig } from './lib/gobgp-rig.js';
import { KubeletSim } from './lib/kubelet-sim.js';
import { Rig } from './lib/rig.js';

const WEB = '198.51.100.80/32';
const WEB_GOBGP = '198.51.100.81/32';
/** See the header: the time from the hang to the watchdog's withdrawal, at most. */
function healthzBoundMs(intervalMs: number): number {
  return 3 * intervalMs + 100;
}
function withdrawBoundMs(intervalMs: number): number {
  return healthzBoundMs(intervalMs) + Math.min(intervalMs, 1_000);
}
const WITHDRAW_BOUND_MS = withdrawBoundMs(1_000);

/** The built-in cases: CALM_HEALTH in every profile; the shipped defaults (no health: section) in the long one. */
const TIMINGS = [
  { label: 'interval 1 s, timeout 500 ms', health: CALM_HEALTH, intervalMs: 1_000, bound: WITHDRAW_BOUND_MS },
  ...(LONG ? [{ label: 'shipped defaults: interval 2 s, timeout 1 s, fast_interval 500 ms', health: '', intervalMs: 2_000, bound: withdrawBoundMs(2_000) }] : []),
];
/** Margin for a loaded 2-core CI box (other suites running). */
const MARGIN_MS = 3_000;
const TRIALS = LONG ? 5 : 1;
/** Quick profile: Debian's gobgpd 3.10; long profile: every version found (as the other GoBGP files). */
const found = gobgpVersions().filter((v) => v.binary);
const gobgpBinaries = (LONG ? found : found.filter((v) => v.label.startsWith('3.10'))).map((v) => v.binary!);

const report = (what: string, v: number | string): void => console.info(`[faults] health-loop-hang: ${what}: ${v}`);

/** Polls /healthz every 50 ms (bounded) until it is not 200; returns when, and the answer. */
async function until503(adminPort: number, t0: number, timeoutMs: number): Promise<{ ms: number; status: number; body: string }> {
  return waitFor(
    async () => {
      const h = await httpGet(adminPort, '/healthz');
      return h.status === 200 ? undefined : { ms: Date.now() - t0, ...h };
    },
    { timeoutMs, intervalMs: 50, what: '/healthz not 200' },
  );
}

describe.skipIf(!hasBird() || !hasBuild()).each(TIMINGS)('health loop hung inside a running vipcast, built-in speaker -> BIRD ($label)', ({ label, health, intervalMs, bound }) => {
  let rig: Rig;
  let dir: string;
  let hangFile: string;

  beforeAll(async () => {
    dir = await tempDir('hang');
    hangFile = join(dir, 'hang');
    rig = await Rig.start({ tag: 'hang', vip: WEB, health, birdHoldSec: 9, env: { VIPCAST_FAILPOINTS: `health-loop-hang@file:${hangFile}` } });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rig?.stop();
  });

  it(`/healthz 503 and the VIP withdrawn on the live session; back when the loop resumes (${TRIALS} trial(s))`, async () => {
    const figures: string[] = [];
    for (let trial = 1; trial <= TRIALS; trial++) {
      expect((await httpGet(rig.adminPort, '/healthz')).status).toBe(200);
      await waitRoute(rig.bird, 'vc', WEB, true, 1_000);
      const before = await birdStats(rig.bird, 'vc');
      expect(before.state).toBe('Established');

      const t0 = Date.now();
      await writeFile(hangFile, '');
      try {
        const h = await until503(rig.adminPort, t0, bound + MARGIN_MS + 5_000);
        expect(h.status).toBe(503);
        expect(h.body).toContain('health loop stalled');
        await waitRoute(rig.bird, 'vc', WEB, false, bound + MARGIN_MS + 5_000);
        const gone = Date.now() - t0;
        // The session carried the withdrawal: it never dropped (same "since"), one withdraw.
        const during = await birdStats(rig.bird, 'vc');
        expect(during.state).toBe('Established');
        expect(during.since).toBe(before.since);
        expect(during.importWithdraws).toBe(before.importWithdraws + 1);
        // The admin API still answers, and says why.
        const web = (await vipsView(rig.adminPort)).find((v) => v.name === 'web');
        expect(web?.advertised).toBe(false);
        expect(web?.reason).toContain('health loop stalled');
        figures.push(`trial ${trial}: /healthz 503 after ${h.ms} ms, route gone at BIRD after ${gone} ms`);
        expect(h.ms).toBeLessThan(healthzBoundMs(intervalMs) + MARGIN_MS);
        expect(gone).toBeLessThan(bound + MARGIN_MS);
      } finally {
        await rm(hangFile, { force: true });
      }
      const t1 = Date.now();
      await waitRoute(rig.bird, 'vc', WEB, true, 15_000);
      const back = Date.now() - t1;
      const after = await birdStats(rig.bird, 'vc');
      expect(after.since).toBe(before.since);
      expect((await httpGet(rig.adminPort, '/healthz')).status).toBe(200);
      figures.push(`trial ${trial}: route back at BIRD ${back} ms after the hang ended`);
    }
    for (const f of figures) report(`built-in (${label}, bound ${bound} ms)`, f);
  }, 60_000 + TRIALS * 50_000);
});

describe.skipIf(!hasBird() || !hasBuild() || gobgpBinaries.length === 0).each(gobgpBinaries)('health loop hung inside a running vipcast, GoBGP $label + simulated kubelet -> BIRD', (binary: GobgpBinary) => {
  let rig: GobgpRig;
  let dir: string;
  let hangFile: string;

  beforeAll(async () => {
    dir = await tempDir('hang-gobgp');
    hangFile = join(dir, 'hang');
    rig = await GobgpRig.start({
      tag: 'hang-gobgp',
      binary,
      vip: WEB_GOBGP,
      routerId: '10.255.6.8',
      holdSec: 3,
      env: { VIPCAST_FAILPOINTS: `health-loop-hang@file:${hangFile}` },
    });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rig?.stop();
  });

  it(`the route leaves BIRD; restarted gobgpd stays without it while hung; back after (${TRIALS} trial(s))`, async () => {
    const figures: string[] = [];
    for (let trial = 1; trial <= TRIALS; trial++) {
      await waitRoute(rig.bird, 'vc', WEB_GOBGP, true, 40_000);
      expect((await httpGet(rig.adminPort, '/healthz')).status).toBe(200);
      // The gobgp container's livenessProbe on vipcast's /healthz, as in gobgp-session-faults.
      // What BIRD held at the moment of each restart, read before the restart itself.
      const atRestart: boolean[] = [];
      const sim = new KubeletSim({
        adminPort: rig.adminPort,
        periodMs: 1_000,
        timeoutMs: 1_000,
        failureThreshold: 3,
        restart: async () => {
          atRestart.push((await birdPrefixes(rig.bird, 'vc')).includes(WEB_GOBGP));
          await rig.gobgpd.kill('SIGTERM');
          await rig.gobgpd.launch();
        },
      });
      sim.start();
      const t0 = Date.now();
      let ended: number;
      await writeFile(hangFile, '');
      try {
        const h = await until503(rig.adminPort, t0, WITHDRAW_BOUND_MS + MARGIN_MS + 5_000);
        expect(h.body).toContain('health loop stalled');
        await waitRoute(rig.bird, 'vc', WEB_GOBGP, false, WITHDRAW_BOUND_MS + MARGIN_MS + 10_000);
        const gone = Date.now() - t0;
        await waitFor(() => atRestart.length > 0, { timeoutMs: 15_000, what: 'the simulated kubelet restarted gobgpd' });
        const restartMs = Date.now() - t0;
        // vipcast's own watchdog removed it (from gobgpd, within one watchdog period of the 503):
        // BIRD no longer held it when the probe loop decided on its first restart.
        expect(atRestart[0]).toBe(false);
        // The restarted gobgpd is configured again by the live vipcast (peers), but the
        // watchdog keeps every VIP withdrawn: nothing in its RIB, nothing at BIRD.
        await sleep(2_000);
        expect(await rig.inGobgp(WEB_GOBGP)).toBe(false);
        await waitRoute(rig.bird, 'vc', WEB_GOBGP, false, 1_000);
        figures.push(`trial ${trial}: /healthz 503 after ${h.ms} ms, route gone at BIRD after ${gone} ms, first gobgpd restart seen after ${restartMs} ms`);
        expect(gone).toBeLessThan(WITHDRAW_BOUND_MS + MARGIN_MS);
      } finally {
        await rm(hangFile, { force: true });
        ended = Date.now();
        await sim.stop();
      }
      await waitRoute(rig.bird, 'vc', WEB_GOBGP, true, 40_000);
      figures.push(`trial ${trial}: route back at BIRD ${Date.now() - ended} ms after the hang ended (${sim.restarts} gobgpd restart(s) during it)`);
      expect(sim.restarts).toBeGreaterThanOrEqual(1);
    }
    for (const f of figures) report(`GoBGP ${binary.label} + simulated kubelet (period 1 s, threshold 3, timeout 1 s)`, f);
  }, 60_000 + TRIALS * 80_000);
});
