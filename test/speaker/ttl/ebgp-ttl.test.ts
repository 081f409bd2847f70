/**
 * eBGP TTL at a real peer (issue 3: "TTL 1 for directly connected eBGP unless multihop").
 * `vipcast run` (built-in speaker) in namespace A, a router R, BIRD in namespace B (see
 * ./topology.ts). BIRD is `multihop` on every session across R, so BIRD is never the side that
 * limits the TTL; whether a session comes up depends on our TTL alone. Assertions read BIRD's
 * `show protocols` / `show route` and the kernel's socket table in B, never vipcast's log.
 *
 * One vipcast, seven neighbors, all on BIRD (each session across R on its own address pair):
 * - 10.201.3.2, directly connected, no ebgp_multihop: Established (TTL 1 reaches a neighbor);
 * - 10.201.2.3 / fd00:201:2::3 across R with ebgp_multihop: 2: Established, VIP routes at BIRD;
 * - 10.201.2.5, across R, passive (BIRD connects to our dual-stack listener, so the socket is
 *   AF_INET6 carrying IPv4), ebgp_multihop: 2: Established;
 * - 10.201.2.2 / fd00:201:2::2 across R without ebgp_multihop: never Established, and BIRD's
 *   kernel never even sees a TCP connection from us: the TTL is set before our SYN, which dies
 *   at R;
 * - 10.201.2.4, the same inbound through the dual-stack listener: never Established. The
 *   kernel completes BIRD's handshake before vipcast sees the socket (the inbound limit in
 *   ttl.ts), so BIRD holds a TCP connection, but our OPEN dies at R.
 */
import { describe, expect, it } from 'vitest';
import { hasBird } from '../../harness/bird.js';
import { hasBuild } from '../../harness/vipcast.js';
import { waitFor } from '../../harness/wait.js';
import { netnsLab } from './netns-daemons.js';
import { Topology, canNetns } from './topology.js';

const VIP4 = '192.0.2.10/32';
const VIP6 = '2001:db8::10/128';
/** How long a session that must not come up is watched, after the ones that must are up. */
const NEVER_WINDOW_MS = 10_000;

/** A BIRD session across R between A's .n and B's .n; `passive`: BIRD waits for us. */
const far = (name: string, n: number, passive: boolean): string => `
protocol bgp ${name} from far4 { local 10.201.2.${n} as 65000; neighbor 10.201.1.${n} as 65001; ${passive ? 'passive on;' : ''} }`;
const far6 = (name: string, n: number): string => `
protocol bgp ${name} from far6 { local fd00:201:2::${n} as 65000; neighbor fd00:201:1::${n} as 65001; passive on; }`;

const BIRD_CONFIG = `
protocol static st4 { ipv4; route 10.201.1.0/24 via 10.201.2.254; }
protocol static st6 { ipv6; route fd00:201:1::/64 via fd00:201:2::fe; }
template bgp timers {
  hold time 9;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 2;
}
template bgp far4 from timers {
  multihop;
  ipv4 { import all; export none; };
}
template bgp far6 from timers {
  multihop;
  ipv6 { import all; export none; };
}
${far('far_direct', 2, true)}
${far('far_multihop', 3, true)}
${far('far_in_direct', 4, false)}
${far('far_in_multihop', 5, false)}
${far6('far6_direct', 2)}
${far6('far6_multihop', 3)}
protocol bgp near from timers {
  local 10.201.3.2 as 65000;
  neighbor 10.201.3.1 as 65001;
  passive on;
  ipv4 { import all; export none; };
}
`;

const VIPCAST_CONFIG = `
bgp:
  local_as: 65001
  router_id: 10.201.3.1
  hold_time: 9s
  listen: { address: "::", port: 179 }
  neighbors:
    - { address: 10.201.3.2, remote_as: 65000, families: [ipv4] }
    - { address: 10.201.2.2, local_address: 10.201.1.2, remote_as: 65000, families: [ipv4] }
    - { address: 10.201.2.3, local_address: 10.201.1.3, remote_as: 65000, families: [ipv4], ebgp_multihop: 2 }
    - { address: 10.201.2.4, remote_as: 65000, families: [ipv4], passive: true }
    - { address: 10.201.2.5, remote_as: 65000, families: [ipv4], passive: true, ebgp_multihop: 2 }
    - { address: "fd00:201:2::2", local_address: "fd00:201:1::2", remote_as: 65000, families: [ipv6] }
    - { address: "fd00:201:2::3", local_address: "fd00:201:1::3", remote_as: 65000, families: [ipv6], ebgp_multihop: 2 }
health: { interval: 200ms, fast_interval: 100ms, timeout: 150ms, rise: 1, fall: 1 }
vips:
  - { name: web4, prefix: "${VIP4}", checks: [{ type: exec, command: ["/usr/bin/true"] }] }
  - { name: web6, prefix: "${VIP6}", checks: [{ type: exec, command: ["/usr/bin/true"] }] }
log: { level: debug }
`;

describe.skipIf(!canNetns || !hasBird() || !hasBuild())('eBGP TTL at a real BIRD across a router (network namespaces; needs root and npm run build)', () => {
  const topo = new Topology('ttl');
  const lab = netnsLab(topo, { vipcastConfig: VIPCAST_CONFIG, birdAddress: '10.201.2.2', birdConfig: BIRD_CONFIG });
  const bird = lab.bird;
  const establishedAtBird = (name: string): Promise<void> => bird().waitEstablished(name, lab.context);
  const vipAtBird = lab.vipAtBird;

  it('directly connected, no ebgp_multihop: TTL 1 reaches the neighbor, Established with the VIP', async () => {
    await establishedAtBird('near');
    expect(await vipAtBird('master4', 'near', VIP4)).toContain('BGP.as_path: 65001');
  }, 60_000);

  it('across the router with ebgp_multihop: 2 (IPv4, IPv6, and inbound on the dual-stack listener): Established with the VIPs', async () => {
    await establishedAtBird('far_multihop');
    await establishedAtBird('far6_multihop');
    await establishedAtBird('far_in_multihop');
    expect(await vipAtBird('master4', 'far_multihop', VIP4)).toContain('BGP.next_hop: 10.201.1.3');
    expect(await vipAtBird('master6', 'far6_multihop', VIP6)).toContain('BGP.next_hop: fd00:201:1::3');
    expect(await vipAtBird('master4', 'far_in_multihop', VIP4)).toContain('BGP.as_path: 65001');
  }, 90_000);

  it('across the router without ebgp_multihop: never Established; outbound not even a TCP connection at BIRD', async () => {
    expect(lab.vipcast().exited).toBe(false);
    // Inbound (BIRD connects to our listener): the kernel completes the handshake with its
    // default TTL before vipcast sees the socket, so BIRD holds a TCP connection; our OPEN dies.
    await waitFor(async () => /10\.201\.2\.4:\d+\s+10\.201\.1\.4:179\b/.test(await topo.tcpSockets(topo.b)), {
      timeoutMs: 20_000,
      intervalMs: 250,
      what: 'BIRD far_in_direct TCP connection to our listener, in B',
    });
    const states = await bird().neverEstablished(['far_direct', 'far6_direct', 'far_in_direct'], NEVER_WINDOW_MS);
    expect(states.size).toBe(3);
    // Outbound: our SYN carries TTL 1 as well and dies at R; BIRD's kernel has no socket with us.
    const sockets = await topo.tcpSockets(topo.b);
    expect(sockets).not.toMatch(/\s10\.201\.1\.2:\d+/);
    expect(sockets).not.toMatch(/\[fd00:201:1::2\]:\d+/);
    expect(await bird().routes('master4', 'far_direct')).toEqual([]);
    expect(await bird().routes('master6', 'far6_direct')).toEqual([]);
    expect(await bird().routes('master4', 'far_in_direct')).toEqual([]);
    // The control: the multihop sessions on the same path are still up.
    expect(await bird().established('far_multihop')).toBe(true);
  }, 60_000);
});
