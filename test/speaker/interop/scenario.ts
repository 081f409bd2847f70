/**
 * One interop scenario, run against each real daemon (BIRD, FRR, GoBGP, ExaBGP): the speaker
 * (AS 4200000001) peers with the daemon (AS 4200000002) on loopback and
 * 1. the daemon holds our IPv4 and IPv6 VIPs with communities, large communities, MED and
 *    AS_PATH prepends, read from the daemon's own view;
 * 2. a withdrawal disappears from the daemon;
 * 3. the daemon restarts; a change made meanwhile arrives, nothing stale;
 * 4. stopping the speaker makes the daemon log Cease/Administrative Shutdown with our RFC 9003 text.
 *
 * Next hops: the session runs over IPv4 loopback, so the IPv6 VIP needs a configured IPv6 next
 * hop (bgp.next_hop.ipv6). We use 198.18.0.1 / fd00::1, outside 127/8 and ::1 on purpose: daemons
 * that validate next hops (BIRD) resolve them through a static route "via lo" in their own
 * tables, which never reach the host's kernel (no kernel protocol / no zebra).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SpeakerBackend } from '../../../src/speaker/backend.js';
import { loopbackAddress } from '../../harness/net.js';
import { waitFor } from '../../harness/wait.js';
import { desired, neighbor, speaker, vip } from '../session/helpers.js';

export const LOCAL_AS = 4200000001;
export const PEER_AS = 4200000002;
export const NEXT_HOP = { ipv4: '198.18.0.1', ipv6: 'fd00::1' };
export const SHUTDOWN_MESSAGE = 'vipcast interop: shutting down for maintenance';

export const V4 = vip('192.0.2.10/32', { med: 10, asPathPrepend: 2, communities: ['65001:100', '65535:0'], largeCommunities: ['4200000001:1:2'] }, 'web');
export const V6 = vip('2001:db8::10/128', { med: 20, asPathPrepend: 1, communities: ['65001:200'], largeCommunities: ['4200000001:3:4'] }, 'web6');

/** A route as the daemon reports it, normalised. */
export interface SeenRoute {
  nextHop: string;
  asPath: number[];
  med?: number;
  /** "asn:value" */
  communities: string[];
  /** "g:l1:l2" */
  largeCommunities: string[];
}

export interface DaemonUnderTest {
  /** Address and port the daemon listens on (passive: the speaker connects). */
  address: string;
  port: number;
  /** Routes the daemon holds from us, by prefix. */
  routes(family: 'ipv4' | 'ipv6'): Promise<Map<string, SeenRoute>>;
  restart(): Promise<void>;
  /** The daemon's own log says it received Cease/Administrative Shutdown with `message`. */
  loggedShutdown(message: string): Promise<boolean>;
  stop(): Promise<void>;
}

/** Registers the scenario's tests; `start` gets the address the speaker connects from. */
export function interopScenario(start: (speakerAddress: string) => Promise<DaemonUnderTest>): void {
  let daemon: DaemonUnderTest | undefined;
  let s: SpeakerBackend | undefined;
  const ours = loopbackAddress();

  beforeAll(async () => {
    daemon = await start(ours);
    s = speaker(
      {
        localAs: LOCAL_AS,
        routerId: '10.0.0.1',
        nextHop: NEXT_HOP,
        neighbors: [neighbor({ address: daemon.address, port: daemon.port, remoteAs: PEER_AS, localAddress: ours, holdTimeSec: 9 })],
      },
      { connectRetry: { baseMs: 250, maxMs: 2_000 } },
    );
    await s.apply(desired(V4, V6));
    await s.start();
  });

  afterAll(async () => {
    await s?.stop('test over').catch(() => undefined);
    await daemon?.stop();
  });

  const seen = (family: 'ipv4' | 'ipv6', prefix: string, timeoutMs = 30_000): Promise<SeenRoute> =>
    waitFor(async () => (await daemon!.routes(family)).get(prefix), { timeoutMs, intervalMs: 250, what: `${prefix} at the daemon` });

  it('receives IPv4 and IPv6 VIPs with communities, large communities, MED and prepends (4-octet ASNs)', async () => {
    const v4 = await seen('ipv4', V4.prefix);
    expect(v4).toEqual({
      nextHop: NEXT_HOP.ipv4,
      asPath: [LOCAL_AS, LOCAL_AS, LOCAL_AS],
      med: 10,
      communities: ['65001:100', '65535:0'],
      largeCommunities: ['4200000001:1:2'],
    });
    const v6 = await seen('ipv6', V6.prefix);
    expect(v6).toEqual({ nextHop: NEXT_HOP.ipv6, asPath: [LOCAL_AS, LOCAL_AS], med: 20, communities: ['65001:200'], largeCommunities: ['4200000001:3:4'] });
  });

  it('sees a withdrawal', async () => {
    await s!.apply(desired(V6));
    await waitFor(async () => !(await daemon!.routes('ipv4')).has(V4.prefix), { timeoutMs: 20_000, intervalMs: 250, what: 'IPv4 VIP withdrawn' });
    expect((await daemon!.routes('ipv6')).has(V6.prefix)).toBe(true);
  });

  it('re-advertises the current set after the daemon restarts', async () => {
    const restarting = daemon!.restart();
    // Changed while the session is down or going down: must arrive, nothing stale.
    await s!.apply(desired(V4, V6));
    await restarting;
    await seen('ipv4', V4.prefix, 45_000);
    await seen('ipv6', V6.prefix, 45_000);
  });

  it('logs a clean Cease/Administrative Shutdown with our message when the speaker stops', async () => {
    await waitFor(() => s!.peers()[0]!.state === 'established', { timeoutMs: 30_000, what: 'session up' });
    await s!.stop(SHUTDOWN_MESSAGE);
    await waitFor(() => daemon!.loggedShutdown(SHUTDOWN_MESSAGE), { timeoutMs: 15_000, intervalMs: 250, what: 'the shutdown message in the daemon log' });
  });
}
