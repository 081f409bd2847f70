/** Builders for manager tests: a normalised VipConfig and a backend that records every apply. */
import type { BgpBackend, DesiredSet, PeerListener, PeerStatus, Readiness, RouteAttributes } from '../../src/backend/types.js';
import type { VipConfig } from '../../src/config/types.js';

export function attrs(overrides: Partial<RouteAttributes> = {}): RouteAttributes {
  return { origin: 'igp', asPathPrepend: 0, communities: [], largeCommunities: [], extendedCommunities: [], ...overrides };
}

export function vipConfig(name: string, n: number, overrides: Partial<VipConfig> = {}): VipConfig {
  return {
    name,
    prefix: `192.0.2.${n}/32`,
    family: 'ipv4',
    address: `192.0.2.${n}`,
    require: 'all',
    checks: [],
    policy: { intervalMs: 1000, fastIntervalMs: 200, timeoutMs: 500, rise: 1, fall: 1, jitter: 0 },
    attributes: attrs({ communities: ['65001:100'] }),
    whenDown: 'withdraw',
    holdDownMs: 0,
    ...overrides,
  };
}

/** Records applied sets; `fail` makes the next applies reject (a backend that is down). */
export class RecordingBackend implements BgpBackend {
  readonly kind = 'builtin' as const;
  applies: DesiredSet[] = [];
  fail = 0;
  resyncs = 0;
  async start(): Promise<void> {}
  async apply(desired: DesiredSet): Promise<void> {
    await Promise.resolve();
    if (this.fail > 0) {
      this.fail--;
      throw new Error('backend unavailable');
    }
    this.applies.push(new Map(desired));
  }
  resync(): Promise<void> {
    this.resyncs++;
    return Promise.resolve();
  }
  async updateNeighbors(): Promise<void> {}
  peerState: PeerStatus['state'] = 'established';
  peers(): PeerStatus[] {
    return [{ address: '127.0.0.2', port: 179, remoteAs: 65000, state: this.peerState, since: new Date(0) }];
  }
  readiness(): Readiness {
    return { ready: true, reason: 'ok' };
  }
  onPeerChange(_l: PeerListener): void {}
  async stop(): Promise<void> {}
  /** Prefixes of the last applied set, with their communities. */
  last(): Record<string, string[]> {
    const last: DesiredSet = this.applies.at(-1) ?? new Map();
    return Object.fromEntries([...last].map(([p, r]) => [p, r.attributes.communities]));
  }
}
