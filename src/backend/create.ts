/**
 * Chooses the backend from the config: `bgp.gobgp_address` set means the GoBGP sidecar,
 * absent means the built-in speaker. Each is loaded on demand so the built-in path never
 * loads gRPC and the GoBGP path never opens a BGP listener of its own.
 */
import type { Logger } from 'pino';
import type { VipcastConfig } from '../config/types.js';
import type { BackendOptions, BgpBackend } from './types.js';

export function backendOptions(config: VipcastConfig, logger: Logger): BackendOptions {
  const { bgp } = config;
  return {
    localAs: bgp.localAs,
    routerId: bgp.routerId,
    holdTimeSec: bgp.holdTimeSec,
    listen: bgp.listen,
    nextHop: bgp.nextHop,
    neighbors: bgp.neighbors,
    logger,
  };
}

export async function createBackend(config: VipcastConfig, logger: Logger): Promise<BgpBackend> {
  const opts = backendOptions(config, logger);
  const address = config.bgp.gobgpAddress;
  if (address !== undefined) {
    const { GobgpBackend } = await import('../gobgp/backend.js');
    return new GobgpBackend({ ...opts, ...config.bgp.gobgp, address });
  }
  const { createSpeakerBackend } = await import('../speaker/backend.js');
  return createSpeakerBackend(opts);
}
