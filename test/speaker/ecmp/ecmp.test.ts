/**
 * ECMP: two speaker instances (two loopback addresses, two router IDs, the same AS) advertise the
 * same IPv4 and IPv6 VIPs to one FRR bgpd with `maximum-paths 8`. FRR's own view
 * (`show bgp ... <prefix> json`) shows two multipath paths with the two next hops; stopping one
 * speaker leaves one. (bgpd runs without zebra, so this is BGP's multipath selection, the set it
 * would hand to the FIB; nothing is installed on the test machine.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpeakerBackend } from '../../../src/speaker/backend.js';
import { Frr, frrConfig, type FrrPath } from '../../harness/peers/frr.js';
import { freePort, loopbackAddress } from '../../harness/net.js';
import { waitFor } from '../../harness/wait.js';
import { LOCAL_AS, PEER_AS } from '../interop/scenario.js';
import { desired, neighbor, speaker, vip } from '../session/helpers.js';

const VIP4 = vip('192.0.2.100/32', { communities: ['65001:100'] }, 'anycast');
const VIP6 = vip('2001:db8::100/128', { communities: ['65001:100'] }, 'anycast6');

describe('ECMP: two speakers, one FRR with maximum-paths', () => {
  let frr: Frr;
  const speakers: SpeakerBackend[] = [];
  const addrs = [loopbackAddress(), loopbackAddress()];
  // Configured next hops: FRR rejects a 127/8 next hop as martian (UPDATE Message Error/Invalid
  // NEXT_HOP), so the sessions' loopback addresses cannot serve as the default here.
  const v4NextHops = ['198.18.0.1', '198.18.0.2'];
  const v6NextHops = ['fd00::a', 'fd00::b'];

  beforeAll(async () => {
    const address = loopbackAddress();
    const port = await freePort(address);
    frr = await Frr.start({ address, port, config: frrConfig(PEER_AS, LOCAL_AS, addrs) });
    for (const [i, local] of addrs.entries()) {
      const s = speaker({
        localAs: LOCAL_AS,
        routerId: `10.0.0.${i + 1}`,
        nextHop: { ipv4: v4NextHops[i], ipv6: v6NextHops[i] },
        neighbors: [neighbor({ address, port, remoteAs: PEER_AS, localAddress: local, holdTimeSec: 9 })],
      });
      speakers.push(s);
      await s.apply(desired(VIP4, VIP6));
      await s.start();
    }
  });

  afterAll(async () => {
    for (const s of speakers) await s.stop('test over').catch(() => undefined);
    await frr?.stop();
  });

  const multipath = async (family: 'ipv4' | 'ipv6', prefix: string): Promise<string[]> => {
    const paths: FrrPath[] = await frr.paths(family, prefix).catch(() => []);
    return paths
      .filter((p) => p.multipath === true || p.bestpath?.overall === true)
      .map((p) => p.nexthops?.find((n) => n.scope !== 'link-local')?.ip ?? '')
      .sort();
  };

  it('the router holds two equal-cost paths with both next hops', async () => {
    const v4 = await waitFor(async () => {
      const hops = await multipath('ipv4', VIP4.prefix);
      return hops.length === 2 && hops;
    }, { timeoutMs: 30_000, intervalMs: 250, what: 'two IPv4 multipaths at FRR' });
    expect(v4).toEqual([...v4NextHops].sort());
    const paths = await frr.paths('ipv4', VIP4.prefix);
    expect(paths.filter((p) => p.multipath === true)).toHaveLength(2);
    const v6 = await waitFor(async () => {
      const hops = await multipath('ipv6', VIP6.prefix);
      return hops.length === 2 && hops;
    }, { timeoutMs: 30_000, intervalMs: 250, what: 'two IPv6 multipaths at FRR' });
    expect(v6).toEqual([...v6NextHops].sort());
  });

  it('stopping one speaker leaves one path', async () => {
    await speakers[0]!.stop('ecmp test: first speaker leaves');
    const v4 = await waitFor(async () => {
      const paths = await frr.paths('ipv4', VIP4.prefix);
      return paths.length === 1 && paths;
    }, { timeoutMs: 20_000, intervalMs: 250, what: 'one IPv4 path left' });
    expect(v4[0]!.nexthops?.[0]?.ip).toBe(v4NextHops[1]);
    await waitFor(async () => (await frr.paths('ipv6', VIP6.prefix)).length === 1, { timeoutMs: 20_000, intervalMs: 250, what: 'one IPv6 path left' });
  });
});
