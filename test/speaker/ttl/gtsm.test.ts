/**
 * GTSM (RFC 5082, neighbor `ttl_security: true`) against BIRD's `ttl security yes`, in the
 * namespace topology of ./topology.ts. Each side checks the other: BIRD drops what arrives below
 * 256 - hops, and so does our kernel once we set IP_MINTTL. Assertions read BIRD's own state.
 *
 * - direct link, both sides GTSM: Established (our 255 arrives as 255);
 * - direct link, BIRD GTSM, we plain eBGP: never (our TTL 1 is below BIRD's 255);
 * - across R, both GTSM with multihop 2: Established (255 arrives as 254, the minimum);
 * - across R, we GTSM with multihop 2, BIRD plain multihop: never, because BIRD sends TTL 64,
 *   which arrives as 63, below our minimum 254. The minimum is set before our SYN, so our
 *   kernel already drops BIRD's SYN-ACK. (Set only once connected, it let BIRD's OPEN through,
 *   queued before we got the socket, and BIRD reached Established for a hold time: measured.)
 */
import { describe, expect, it } from 'vitest';
import { hasBird } from '../../harness/bird.js';
import { hasBuild } from '../../harness/vipcast.js';
import { netnsLab } from './netns-daemons.js';
import { Topology, canNetns } from './topology.js';

const VIP4 = '192.0.2.20/32';
const NEVER_WINDOW_MS = 10_000;

const BIRD_CONFIG = `
protocol static st4 { ipv4; route 10.201.1.0/24 via 10.201.2.254; }
template bgp timers {
  hold time 9;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 2;
  passive on;
  ipv4 { import all; export none; };
}
protocol bgp near_gtsm from timers { local 10.201.3.4 as 65000; neighbor 10.201.3.3 as 65001; ttl security yes; }
protocol bgp near_gtsm_bird_only from timers { local 10.201.3.6 as 65000; neighbor 10.201.3.5 as 65001; ttl security yes; }
protocol bgp far_gtsm from timers { local 10.201.2.6 as 65000; neighbor 10.201.1.6 as 65001; multihop 2; ttl security yes; }
protocol bgp far_gtsm_ours_only from timers { local 10.201.2.7 as 65000; neighbor 10.201.1.7 as 65001; multihop; }
`;

const VIPCAST_CONFIG = `
bgp:
  local_as: 65001
  router_id: 10.201.3.3
  hold_time: 9s
  neighbors:
    - { address: 10.201.3.4, local_address: 10.201.3.3, remote_as: 65000, families: [ipv4], ttl_security: true }
    - { address: 10.201.3.6, local_address: 10.201.3.5, remote_as: 65000, families: [ipv4] }
    - { address: 10.201.2.6, local_address: 10.201.1.6, remote_as: 65000, families: [ipv4], ebgp_multihop: 2, ttl_security: true }
    - { address: 10.201.2.7, local_address: 10.201.1.7, remote_as: 65000, families: [ipv4], ebgp_multihop: 2, ttl_security: true }
health: { interval: 200ms, fast_interval: 100ms, timeout: 150ms, rise: 1, fall: 1 }
vips:
  - { name: web4, prefix: "${VIP4}", checks: [{ type: exec, command: ["/usr/bin/true"] }] }
log: { level: debug }
`;

describe.skipIf(!canNetns || !hasBird() || !hasBuild())('GTSM (ttl_security) against BIRD ttl security (network namespaces; needs root and npm run build)', () => {
  const topo = new Topology('gtsm');
  const lab = netnsLab(topo, { vipcastConfig: VIPCAST_CONFIG, birdAddress: '10.201.3.4', birdConfig: BIRD_CONFIG });
  const bird = lab.bird;
  const vipAtBird = (protocol: string): Promise<string> => lab.vipAtBird('master4', protocol, VIP4);

  it('both sides GTSM: Established directly and across the router (multihop 2), with the VIP', async () => {
    await bird().waitEstablished('near_gtsm', lab.context);
    await bird().waitEstablished('far_gtsm', lab.context);
    expect(await vipAtBird('near_gtsm')).toContain('BGP.as_path: 65001');
    expect(await vipAtBird('far_gtsm')).toContain('BGP.next_hop: 10.201.1.6');
  }, 90_000);

  it('GTSM on one side only: never Established, whichever side has it', async () => {
    expect(lab.vipcast().exited).toBe(false);
    const states = await bird().neverEstablished(['near_gtsm_bird_only', 'far_gtsm_ours_only'], NEVER_WINDOW_MS);
    expect(states.size).toBe(2);
    expect(await bird().routes('master4', 'near_gtsm_bird_only')).toEqual([]);
    expect(await bird().routes('master4', 'far_gtsm_ours_only')).toEqual([]);
    expect(await bird().established('near_gtsm')).toBe(true);
  }, 60_000);
});
