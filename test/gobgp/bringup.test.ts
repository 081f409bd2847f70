/**
 * Session bring-up time against a bare gobgpd of each version (manage: true: StartBgp, AddPeer,
 * then the first apply), peered with a passive BIRD 2 as in the interop suite: how long until
 * BIRD reports the session Established and until the first VIP is in BIRD's table. Measured at
 * BIRD (birdc), printed per run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Bird, hasBird } from '../harness/bird.js';
import { Gobgpd, gobgpVersions } from '../harness/gobgpd.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { waitFor } from '../harness/wait.js';
import { GobgpBackend } from '../../src/gobgp/index.js';
import { LOCAL_AS, ROUTER_AS, backendOptions, captureLogger, desired, neighbor, vip } from './fixtures.js';

const RUNS = Number(process.env.VIPCAST_BRINGUP_RUNS ?? 3);
const VIP = vip('192.0.2.40/32');

const versions = gobgpVersions().filter((v) => v.binary);

describe.skipIf(!hasBird() || versions.length === 0)('GoBGP session bring-up time (bare daemon, manage: true, passive BIRD)', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  for (const version of versions) {
    it(`GoBGP ${version.label}: ${RUNS} bring-ups`, async () => {
      const results: string[] = [];
      for (let run = 0; run < RUNS; run++) {
        const birdAddr = loopbackAddress();
        const localAddr = loopbackAddress();
        const birdPort = await freePort(birdAddr);
        const bird = await Bird.start({
          routerId: '10.0.0.254',
          config: `
protocol bgp vm {
  local ${birdAddr} port ${birdPort} as ${ROUTER_AS};
  neighbor ${localAddr} as ${LOCAL_AS};
  passive on;
  multihop;
  hold time 9;
  ipv4 { import all; export none; };
}`,
        });
        cleanup.push(() => bird.stop());
        const gobgpd = await Gobgpd.start({ binary: version.binary!, logLevel: 'debug' });
        cleanup.push(() => gobgpd.stop());
        const { logger } = captureLogger();
        const backend = new GobgpBackend(backendOptions(gobgpd.apiAddress, { neighbors: [neighbor(birdAddr, birdPort, localAddr, { families: ['ipv4'] })], logger }));
        cleanup.push(() => backend.detach());
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
          { timeoutMs: 60_000, intervalMs: 50, what: () => `${VIP.prefix} at BIRD (gobgpd log: ${gobgpd.log.slice(-4000)})` },
        );
        const tRoute = Date.now() - t0;
        const attempts = gobgpd.log.split('\n').filter((l) => /try to connect/.test(l)).length;
        results.push(`run ${run + 1}: configured ${tConfigured} ms, Established ${tEst} ms, first route ${tRoute} ms, connect attempts ${attempts}`);
        console.log(`[bring-up ${version.label}] ${results.at(-1)}\n${gobgpd.log.split('\n').filter((l) => /connect|State|Peer Up|fsm/i.test(l)).join('\n')}`);
        for (const c of cleanup.splice(0).reverse()) await c();
      }
      console.log(`[bring-up ${version.label}]\n  ${results.join('\n  ')}`);
      expect(results).toHaveLength(RUNS);
    }, 300_000);
  }
});
