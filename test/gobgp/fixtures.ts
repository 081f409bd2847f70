/** Shared pieces of the GoBGP backend tests: routes, backend options, a log capture. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { DesiredSet, NeighborSpec, RouteAttributes, VipRoute } from '../../src/backend/types.js';
import type { GobgpBackendOptions } from '../../src/gobgp/index.js';
import type { Bird } from '../harness/bird.js';
import { waitFor } from '../harness/wait.js';

export const LOCAL_AS = 65001;
export const ROUTER_AS = 65000;
/** IPv6 VIPs travel over an IPv4 session here: the IPv6 next hop must be explicit. */
export const NEXT_HOP_V6 = '2001:db8::1';

export const attrs = (over: Partial<RouteAttributes> = {}): RouteAttributes => ({
  origin: 'igp',
  asPathPrepend: 0,
  communities: [],
  largeCommunities: [],
  extendedCommunities: [],
  ...over,
});

export const vip = (prefix: string, over: Partial<RouteAttributes> = {}): VipRoute => ({
  vip: `vip-${prefix.replace(/[^0-9a-f]/gi, '-')}`,
  prefix,
  family: prefix.includes(':') ? 'ipv6' : 'ipv4',
  attributes: attrs(over),
});

export const desired = (...routes: VipRoute[]): DesiredSet => new Map(routes.map((r) => [r.prefix, r]));

export function neighbor(address: string, port: number, localAddress: string, over: Partial<NeighborSpec> = {}): NeighborSpec {
  return { address, port, remoteAs: ROUTER_AS, passive: false, ebgpMultihop: 0, localAddress, families: ['ipv4', 'ipv6'], holdTimeSec: 9, ...over };
}

/** A logger whose JSON lines are kept for the few tests about logging itself. */
export function captureLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = pino({ level: process.env.VIPCAST_TEST_LOG ?? 'info' }, stream);
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export function backendOptions(address: string, over: Partial<GobgpBackendOptions> & { logger: Logger }): GobgpBackendOptions {
  return {
    address,
    manage: true,
    apiVersion: 'auto',
    resyncIntervalMs: 30_000,
    localAs: LOCAL_AS,
    routerId: '10.0.0.1',
    holdTimeSec: 9,
    nextHop: { ipv6: NEXT_HOP_V6 },
    neighbors: [],
    ...over,
  };
}

/**
 * For BIRD's passive BGP protocols in these tests: `strict bind` makes BIRD listen on the
 * protocol's own (unique) loopback address instead of the wildcard. Without it BIRD binds
 * 0.0.0.0:port, and a port that freePort() found free on the test's address may be in use on
 * 127.0.0.1 (an ephemeral port of some other loopback connection on a busy machine): the bind
 * fails with EADDRINUSE, the protocol goes down with "No listening socket" and stays down until
 * it is disabled and enabled, so every connect from gobgpd is refused.
 */
export const BIRD_STRICT_BIND = 'strict bind yes;';

/** Waits until BIRD's passive protocols listen (state Passive), failing at once with BIRD's reason if one went down. */
export async function birdListening(bird: Bird, protocols: string[]): Promise<void> {
  for (const name of protocols) {
    let last = '';
    await waitFor(
      async () => {
        last = await bird.birdc(`show protocols all ${name}`);
        if (/No listening socket|Cannot open listening socket/.test(last)) throw new Error(`BIRD protocol ${name} is not listening:\n${last}`);
        return /BGP state:\s+(Passive|Established|OpenSent|OpenConfirm)/.test(last);
      },
      { timeoutMs: 10_000, what: () => `BIRD protocol ${name} listening (${last})` },
    );
  }
}
