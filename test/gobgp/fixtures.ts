/** Shared pieces of the GoBGP backend tests: routes, backend options, a log capture. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { DesiredSet, NeighborSpec, RouteAttributes, VipRoute } from '../../src/backend/types.js';
import type { GobgpBackendOptions } from '../../src/gobgp/index.js';

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
