/**
 * Interop with BIRD 2 (test/harness/bird.ts), asserted from `birdc show route all`.
 *
 * BIRD refuses a "direct" eBGP neighbor on loopback ("Invalid remote address": 127/8 on lo is
 * not a connected network to it), so the session is `multihop`, which makes BIRD resolve next
 * hops recursively in its IGP tables (master4/master6). Static routes "via lo" for
 * 198.18.0.0/15 and fd00::/8 make our next hops resolvable; BIRD has no kernel protocol here,
 * so nothing reaches the host's routing table.
 */
import { describe } from 'vitest';
import { Bird, parseRoutes } from '../../harness/bird.js';
import { freePort, loopbackAddress } from '../../harness/net.js';
import { interopScenario, LOCAL_AS, PEER_AS, type SeenRoute } from './scenario.js';

export function birdConfig(address: string, port: number, neighbors: string[]): string {
  return [
    'protocol static st4 { ipv4; route 198.18.0.0/15 via "lo"; }',
    'protocol static st6 { ipv6; route fd00::/8 via "lo"; }',
    ...neighbors.map(
      (n, i) => `protocol bgp vc${i} {
  local ${address} port ${port} as ${PEER_AS};
  neighbor ${n} as ${LOCAL_AS};
  passive on;
  strict bind yes;
  multihop;
  hold time 9;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}`,
    ),
  ].join('\n');
}

/** BGP attributes of one `show route all` entry. */
export function birdSeen(detail: string): SeenRoute {
  const attr = (name: string): string | undefined => new RegExp(`BGP\\.${name}: (.*)`).exec(detail)?.[1]?.trim();
  const pairs = (text: string | undefined): string[] => [...(text ?? '').matchAll(/\(([^)]*)\)/g)].map((m) => m[1]!.split(',').map((x) => x.trim()).join(':'));
  const r: SeenRoute = {
    nextHop: (attr('next_hop') ?? '').split(/\s+/)[0]!,
    asPath: (attr('as_path') ?? '').split(/\s+/).filter(Boolean).map(Number),
    communities: pairs(attr('community')),
    largeCommunities: pairs(attr('large_community')),
  };
  const med = attr('med');
  if (med !== undefined) r.med = Number(med);
  return r;
}

describe('interop: BIRD 2', () => {
  interopScenario(async (ours) => {
    const address = loopbackAddress();
    const port = await freePort(address);
    const bird = await Bird.start({ routerId: '10.255.0.1', config: birdConfig(address, port, [ours]) });
    return {
      address,
      port,
      routes: async (family) => {
        const out = await bird.birdc(`show route all table ${family === 'ipv4' ? 'master4' : 'master6'} protocol vc0`);
        return new Map(parseRoutes(out).map((r) => [r.prefix, birdSeen(r.detail)]));
      },
      restart: () => bird.restart(),
      loggedShutdown: async (message) => (await bird.log()).includes(`Received: Administrative shutdown: "${message}"`),
      stop: () => bird.stop(),
    };
  });
});
