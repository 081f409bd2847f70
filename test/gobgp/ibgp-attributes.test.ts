/**
 * The attributes an eBGP router cannot show, asserted at a real BIRD 2 over iBGP, per GoBGP
 * version: LOCAL_PREF (sent only to internal peers, RFC 4271 §5.1.5), an explicit next hop
 * (GoBGP sets next-hop-self towards eBGP peers, but passes a local path's next hop unchanged to
 * iBGP peers), ORIGIN EGP and INCOMPLETE. The API generation is forced here (api_version v3/v4)
 * instead of detected, so the forced path is exercised against each daemon too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bird, hasBird } from '../harness/bird.js';
import { Gobgpd, gobgpVersions } from '../harness/gobgpd.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { waitFor } from '../harness/wait.js';
import { GobgpBackend } from '../../src/gobgp/index.js';
import { BIRD_STRICT_BIND, LOCAL_AS, backendOptions, birdListening, captureLogger, desired, neighbor, vip } from './fixtures.js';

const LP = vip('192.0.2.31/32', { localPref: 250, nextHop: '192.0.2.254', med: 7, communities: ['65001:31'] });
const EGP = vip('192.0.2.32/32', { origin: 'egp' });
const INCOMPLETE = vip('192.0.2.33/32', { origin: 'incomplete', largeCommunities: ['65001:3:3'] });

for (const version of gobgpVersions()) {
  describe(`GoBGP ${version.label} over iBGP to BIRD 2 (api_version ${version.api} forced)`, () => {
    const missing = version.missing ?? (hasBird() ? undefined : 'BIRD 2 not installed (apt-get install bird2)');
    if (missing) {
      it.skip(`skipped: ${missing}`, () => undefined);
      return;
    }
    const binary = version.binary!;
    const birdAddr = loopbackAddress();
    const ourAddr = loopbackAddress();
    let bird: Bird | undefined;
    let daemon: Gobgpd | undefined;
    let backend: GobgpBackend | undefined;

    beforeAll(async () => {
      const port = await freePort(birdAddr);
      bird = await Bird.start({
        routerId: '10.0.0.253',
        config: `
protocol bgp ib {
  local ${birdAddr} port ${port} as ${LOCAL_AS};
  neighbor ${ourAddr} as ${LOCAL_AS};
  passive on;
  ${BIRD_STRICT_BIND}
  hold time 9;
  ipv4 { import all; export none; gateway recursive; };
}`,
      });
      await birdListening(bird, ['ib']);
      daemon = await Gobgpd.start({ binary });
      const { logger } = captureLogger();
      backend = new GobgpBackend(
        backendOptions(daemon.apiAddress, { apiVersion: version.api, logger, neighbors: [neighbor(birdAddr, port, ourAddr, { remoteAs: LOCAL_AS, families: ['ipv4'] })] }),
      );
      await backend.start();
      expect(backend.apiVersion).toBe(version.api);
    });

    afterAll(async () => {
      backend?.detach();
      await daemon?.stop();
      await bird?.stop();
    });

    it('LOCAL_PREF, an explicit next hop, MED, ORIGIN EGP and INCOMPLETE reach BIRD', async () => {
      await backend!.apply(desired(LP, EGP, INCOMPLETE));
      const route = (prefix: string) =>
        waitFor(async () => (await bird!.routes('master4', 'ib')).find((r) => r.prefix === prefix)?.detail, { timeoutMs: 30_000, what: `${prefix} at BIRD over iBGP` });
      const lp = await route(LP.prefix);
      expect(lp).toContain('BGP.local_pref: 250');
      expect(lp).toContain('BGP.next_hop: 192.0.2.254');
      expect(lp).toContain('BGP.med: 7');
      expect(lp).toContain('BGP.origin: IGP');
      expect(lp).toContain('BGP.community: (65001,31)');
      // iBGP: GoBGP adds no AS of its own.
      expect(lp).toMatch(/BGP\.as_path:\s*\n/);
      expect(await route(EGP.prefix)).toContain('BGP.origin: EGP');
      const inc = await route(INCOMPLETE.prefix);
      expect(inc).toContain('BGP.origin: Incomplete');
      expect(inc).toContain('BGP.large_community: (65001, 3, 3)');
    });
  });
}
