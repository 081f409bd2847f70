/**
 * Interop with FRR bgpd (test/harness/peers/frr.ts), asserted from `vtysh show bgp ... json`.
 * bgpd runs without zebra (-Z): all next hops count as reachable and nothing reaches the kernel.
 * `disable-connected-check` lets the single-hop eBGP session run between loopback addresses.
 */
import { describe } from 'vitest';
import { Frr, type FrrPath } from '../../harness/peers/frr.js';
import { freePort, loopbackAddress } from '../../harness/net.js';
import { interopScenario, LOCAL_AS, PEER_AS, type SeenRoute } from './scenario.js';

/** FRR prints well-known communities by name. */
const WELL_KNOWN: Record<string, string> = {
  'graceful-shutdown': '65535:0',
  'no-export': '65535:65281',
  'no-advertise': '65535:65282',
  'no-export-subconfed': '65535:65283',
  blackhole: '65535:666',
};

export function frrConfig(neighbors: string[], extra = ''): string {
  const lines = [`router bgp ${PEER_AS}`, ' bgp router-id 10.255.0.2', ' bgp log-neighbor-changes', ' no bgp ebgp-requires-policy', ' no bgp default ipv4-unicast'];
  for (const n of neighbors) {
    lines.push(` neighbor ${n} remote-as ${LOCAL_AS}`, ` neighbor ${n} passive`, ` neighbor ${n} disable-connected-check`, ` neighbor ${n} timers 3 9`);
  }
  for (const af of ['ipv4', 'ipv6']) {
    lines.push(` address-family ${af} unicast`, ...neighbors.map((n) => `  neighbor ${n} activate`), '  maximum-paths 8', ' exit-address-family');
  }
  return lines.join('\n') + '\n' + extra;
}

export function frrSeen(p: FrrPath): SeenRoute {
  const r: SeenRoute = {
    // Global next hop first (IPv6 paths may add a link-local one).
    nextHop: p.nexthops?.find((n) => n.scope !== 'link-local')?.ip ?? '',
    asPath: (p.aspath?.string ?? '').split(/\s+/).filter(Boolean).map(Number),
    communities: (p.community?.string ?? '').split(/\s+/).filter(Boolean).map((c) => WELL_KNOWN[c] ?? c),
    largeCommunities: (p.largeCommunity?.string ?? '').split(/\s+/).filter(Boolean),
  };
  const med = p.med ?? p.metric;
  if (med !== undefined) r.med = med;
  return r;
}

describe('interop: FRR bgpd', () => {
  interopScenario(async (ours) => {
    const address = loopbackAddress();
    const port = await freePort(address);
    const frr = await Frr.start({ address, port, config: frrConfig([ours]) });
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
