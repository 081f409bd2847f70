/**
 * Session bring-up time against a bare gobgpd of each version (manage: true: StartBgp, AddPeer,
 * then the first apply), peered with a passive BIRD 2 as in the interop suite. Measured at BIRD
 * (birdc) and printed per run:
 *  - router listening first: time until BIRD reports Established and until the first VIP is in
 *    BIRD's table, from start() (GoBGP's first connect after AddPeer: 1-2 s in v3.37/v4, a fixed
 *    5-9 s in 3.10, whatever connect_retry says);
 *  - router listening late (3 s after AddPeer, as when the sidecar is configured before the
 *    router accepts): time from BIRD listening until Established, paced by connect_retry.
 * The bounds are generous on purpose (a loaded CI machine); the numbers are for reading.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Bird, hasBird } from '../harness/bird.js';
import { Gobgpd, gobgpVersions } from '../harness/gobgpd.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { sleep, waitFor } from '../harness/wait.js';
import { GobgpBackend } from '../../src/gobgp/index.js';
import { BIRD_STRICT_BIND, LOCAL_AS, ROUTER_AS, backendOptions, birdListening, captureLogger, desired, neighbor, vip } from './fixtures.js';

const RUNS = Number(process.env.VIPCAST_BRINGUP_RUNS ?? 2);
const LATE_MS = 3_000;
const VIP = vip('192.0.2.40/32');

const versions = gobgpVersions().filter((v) => v.binary);

describe.skipIf(!hasBird() || versions.length === 0)('GoBGP session bring-up time (bare daemon, manage: true, passive BIRD)', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  const runCleanup = async (): Promise<void> => {
    for (const c of cleanup.splice(0).reverse()) await c();
  };
  afterEach(runCleanup);

  const birdConfig = (birdAddr: string, birdPort: number, localAddr: string): string => `
protocol bgp vm {
  local ${birdAddr} port ${birdPort} as ${ROUTER_AS};
  neighbor ${localAddr} as ${LOCAL_AS};
  passive on;
  ${BIRD_STRICT_BIND}
  multihop;
  hold time 9;
  ipv4 { import all; export none; };
}`;

  async function startBird(birdAddr: string, birdPort: number, localAddr: string): Promise<Bird> {
    const bird = await Bird.start({ routerId: '10.0.0.254', config: birdConfig(birdAddr, birdPort, localAddr) });
    cleanup.push(() => bird.stop());
    await birdListening(bird, ['vm']);
    return bird;
  }

  async function startBackend(version: (typeof versions)[number], birdAddr: string, birdPort: number, localAddr: string): Promise<{ gobgpd: Gobgpd; backend: GobgpBackend }> {
    const gobgpd = await Gobgpd.start({ binary: version.binary!, logLevel: 'debug' });
    cleanup.push(() => gobgpd.stop());
    const { logger } = captureLogger();
    const backend = new GobgpBackend(backendOptions(gobgpd.apiAddress, { neighbors: [neighbor(birdAddr, birdPort, localAddr, { families: ['ipv4'] })], logger }));
    cleanup.push(() => backend.detach());
    return { gobgpd, backend };
  }

  /** What BIRD logged about the session going wrong (empty when it came up cleanly). */
  const birdTrouble = async (bird: Bird): Promise<string> =>
    (await bird.log())
      .split('\n')
      .filter((l) => /vm:.*(Error|rejected|Received:|Connection lost)/.test(l))
      .join('; ');

  for (const version of versions) {
    it(`GoBGP ${version.label}: router listening first, ${RUNS} bring-ups`, async () => {
      const results: string[] = [];
      for (let run = 0; run < RUNS; run++) {
        const birdAddr = loopbackAddress();
        const localAddr = loopbackAddress();
        const birdPort = await freePort(birdAddr);
        const bird = await startBird(birdAddr, birdPort, localAddr);
        const { gobgpd, backend } = await startBackend(version, birdAddr, birdPort, localAddr);
        const t0 = Date.now();
        await backend.start();
        await backend.apply(desired(VIP));
        const tConfigured = Date.now() - t0;
        let tEst = 0;
        await waitFor(
          async () => {
            if (!tEst && (await bird.protocolState('vm')) === 'Established') tEst = Date.now() - t0;
            return tEst > 0 && (await bird.routes('master4', 'vm')).some((r) => r.prefix === VIP.prefix);
          },
          { timeoutMs: 45_000, intervalMs: 50, what: () => `${VIP.prefix} at BIRD (gobgpd log: ${gobgpd.log.slice(-4000)})` },
        );
        const tRoute = Date.now() - t0;
        const attempts = gobgpd.log.split('\n').filter((l) => /try to connect/.test(l)).length;
        const trouble = await birdTrouble(bird);
        results.push(`run ${run + 1}: configured ${tConfigured} ms, Established ${tEst} ms, first route ${tRoute} ms, connect attempts ${attempts}${trouble ? `, BIRD: ${trouble}` : ''}`);
        await runCleanup();
        expect(tRoute).toBeLessThan(45_000);
      }
      console.log(`[bring-up ${version.label}] router listening first (times from start())\n  ${results.join('\n  ')}`);
    }, 180_000);

    it(`GoBGP ${version.label}: router listening ${LATE_MS} ms after AddPeer, ${RUNS} bring-ups`, async () => {
      const results: string[] = [];
      for (let run = 0; run < RUNS; run++) {
        const birdAddr = loopbackAddress();
        const localAddr = loopbackAddress();
        const birdPort = await freePort(birdAddr);
        const { gobgpd, backend } = await startBackend(version, birdAddr, birdPort, localAddr);
        await backend.start();
        await backend.apply(desired(VIP));
        await sleep(LATE_MS);
        const bird = await startBird(birdAddr, birdPort, localAddr);
        const t0 = Date.now();
        await waitFor(async () => (await bird.protocolState('vm')) === 'Established', {
          timeoutMs: 45_000,
          intervalMs: 50,
          what: () => `BIRD vm Established (gobgpd log: ${gobgpd.log.slice(-4000)})`,
        });
        const tEst = Date.now() - t0;
        const refused = gobgpd.log.split('\n').filter((l) => /failed to connect/.test(l)).length;
        results.push(`run ${run + 1}: Established ${tEst} ms after BIRD listened (${refused} refused attempts before)`);
        await runCleanup();
        expect(tEst).toBeLessThan(45_000);
      }
      console.log(`[bring-up ${version.label}] router listening late\n  ${results.join('\n  ')}`);
    }, 180_000);
  }
});
