/** A complete normalised config for app tests (the YAML loader is tested on its own). */
import type { VipcastConfig } from '../../src/config/types.js';
import { vipConfig } from '../manager/fixtures.js';

export function appConfig(overrides: Partial<VipcastConfig> = {}): VipcastConfig {
  return {
    source: '/dev/null',
    bgp: {
      localAs: 65001,
      routerId: '127.0.0.1',
      gobgp: { manage: true, apiVersion: 'auto', resyncIntervalMs: 0 },
      holdTimeSec: 9,
      nextHop: {},
      neighbors: [],
    },
    health: { intervalMs: 200, fastIntervalMs: 100, timeoutMs: 100, rise: 1, fall: 1, jitter: 0 },
    vips: [vipConfig('web', 10, { policy: { intervalMs: 200, fastIntervalMs: 100, timeoutMs: 100, rise: 1, fall: 1, jitter: 0 } })],
    shutdown: { gracefulCommunity: true, gracePeriodMs: 300 },
    admin: { host: '127.0.0.1', port: 0 },
    log: { level: 'info', format: 'json' },
    ...overrides,
  };
}
