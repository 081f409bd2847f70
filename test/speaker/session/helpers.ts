/** Shared set-up for session tests: a speaker backend on loopback with short retry times. */
import type { DesiredSet, NeighborSpec, RouteAttributes, VipRoute } from '../../../src/backend/types.js';
import { silentLogger } from '../../../src/log/logger.js';
import { SpeakerBackend, type SpeakerTuning } from '../../../src/speaker/backend.js';
import type { BackendOptions } from '../../../src/backend/types.js';

export const FAST: SpeakerTuning = { connectRetry: { baseMs: 200, maxMs: 1_000 } };

export function neighbor(n: Partial<NeighborSpec> & { address: string; remoteAs: number }): NeighborSpec {
  return { port: 179, passive: false, ebgpMultihop: 0, families: ['ipv4', 'ipv6'], holdTimeSec: 90, ...n };
}

export function speaker(opts: Partial<BackendOptions> & { neighbors: NeighborSpec[] }, tuning: SpeakerTuning = FAST): SpeakerBackend {
  return new SpeakerBackend({ localAs: 4200000001, routerId: '10.0.0.1', holdTimeSec: 90, nextHop: {}, logger: silentLogger, ...opts }, tuning);
}

export function attrs(a: Partial<RouteAttributes> = {}): RouteAttributes {
  return { origin: 'igp', asPathPrepend: 0, communities: [], largeCommunities: [], extendedCommunities: [], ...a };
}

export function vip(prefix: string, a: Partial<RouteAttributes> = {}, name = 'web'): VipRoute {
  return { vip: name, prefix, family: prefix.includes(':') ? 'ipv6' : 'ipv4', attributes: attrs(a) };
}

export function desired(...routes: VipRoute[]): DesiredSet {
  return new Map(routes.map((r) => [r.prefix, r]));
}
