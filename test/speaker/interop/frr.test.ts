/**
 * Interop with FRR bgpd (test/harness/peers/frr.ts), asserted from `vtysh show bgp ... json`.
 * bgpd runs without zebra (-Z): all next hops count as reachable and nothing reaches the kernel.
 * `disable-connected-check` lets the single-hop eBGP session run between loopback addresses.
 */
import { describe } from 'vitest';
import { Frr, frrConfig, frrSeen } from '../../harness/peers/frr.js';
import { freePort, loopbackAddress } from '../../harness/net.js';
import { interopScenario, LOCAL_AS, PEER_AS, type SeenRoute } from './scenario.js';

describe('interop: FRR bgpd', () => {
  interopScenario(async (ours) => {
    const address = loopbackAddress();
    const port = await freePort(address);
    const frr = await Frr.start({ address, port, config: frrConfig(PEER_AS, LOCAL_AS, [ours]) });
    return {
      address,
      port,
      routes: async (family) => {
        const out = new Map<string, SeenRoute>();
        for (const prefix of await frr.prefixes(family)) {
          const path = (await frr.paths(family, prefix))[0];
          if (path) out.set(prefix, frrSeen(path));
        }
        return out;
      },
      restart: () => frr.restart(),
      loggedShutdown: async (message) => {
        const log = await frr.log();
        return log.split('\n').some((l) => l.includes('6/2') && l.includes('Administrative Shutdown') && l.includes(message));
      },
      stop: () => frr.stop(),
    };
  });
});
