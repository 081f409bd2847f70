/**
 * The steps that make the daemon agree with vipcast, each a function of a client: global config,
 * neighbors, paths. The backend sequences them (backend.ts); these never keep state of their own.
 */
import type { Logger } from 'pino';
import type { BackendOptions, NeighborSpec } from '../backend/types.js';
import type { GobgpClient } from './api/client.js';
import type { ApiGlobal, ApiPeer } from './api/types.js';
import { GobgpError } from './errors.js';
import { FAMILIES, ownPaths, type OwnPath } from './paths.js';
import { neighborToPeer, peerDiffers, readPassword } from './peers.js';
import type { PathDiff } from './reconcile.js';
import { PathSink } from './stream.js';

export const isStarted = (g: ApiGlobal): boolean => (g.asn ?? 0) !== 0;

/**
 * manage: true: start the daemon's BGP if it is not (after a sidecar restart it never is), or
 * check that it runs with our AS and router id. manage: false: only check it is started.
 */
export async function ensureGlobal(client: GobgpClient, global: ApiGlobal, opts: BackendOptions, manage: boolean, log: Logger): Promise<void> {
  if (!isStarted(global)) {
    if (!manage) {
      throw new GobgpError(
        'GOBGP_NOT_STARTED',
        `gobgpd at ${client.address} has no global BGP configuration (not started) and gobgp.manage is false: start it from gobgpd.conf ([global.config] as, router-id) or set gobgp.manage: true`,
      );
    }
    const want: ApiGlobal = {
      asn: opts.localAs,
      router_id: opts.routerId,
      // -1: GoBGP does not listen; vipcast's sessions are then active only.
      listen_port: opts.listen ? opts.listen.port : -1,
      listen_addresses: opts.listen ? [opts.listen.address] : [],
    };
    await client.startBgp(want);
    log.info({ asn: want.asn, routerId: want.router_id, listenPort: want.listen_port }, 'gobgpd global BGP started');
    return;
  }
  if (manage && (global.asn !== opts.localAs || global.router_id !== opts.routerId)) {
    throw new GobgpError(
      'GOBGP_GLOBAL_MISMATCH',
      `gobgpd at ${client.address} runs AS ${global.asn} router-id ${global.router_id}, but bgp.local_as/router_id are ${opts.localAs}/${opts.routerId}; vipcast will not restart the daemon's BGP (it would drop every session): fix the config or restart gobgpd`,
    );
  }
}

/** manage: true: the daemon's neighbors become exactly `neighbors` (add, update, delete). */
export async function syncNeighbors(client: GobgpClient, neighbors: NeighborSpec[], log: Logger): Promise<void> {
  const have = new Map<string, ApiPeer>();
  for (const p of await client.listPeers()) {
    const a = p.conf?.neighbor_address || p.state?.neighbor_address;
    if (a) have.set(a, p);
  }
  for (const n of neighbors) {
    const want = neighborToPeer(n, n.passwordFile ? await readPassword(n.passwordFile) : undefined);
    const existing = have.get(n.address);
    have.delete(n.address);
    if (!existing) {
      await client.addPeer(want);
      log.info({ peer: n.address, remoteAs: n.remoteAs }, 'gobgpd neighbor added');
      continue;
    }
    const diff = peerDiffers(existing, want);
    if (diff) {
      await client.updatePeer(want);
      log.info({ peer: n.address, change: diff }, 'gobgpd neighbor updated');
    }
  }
  for (const address of have.keys()) {
    await client.deletePeer(address);
    log.info({ peer: address }, 'gobgpd neighbor deleted (not in bgp.neighbors)');
  }
}

/** vipcast's paths in the daemon's global RIB, both families. */
export async function listOwnPaths(client: GobgpClient): Promise<OwnPath[]> {
  const [v4, v6] = await Promise.all([client.listPath(FAMILIES.ipv4), client.listPath(FAMILIES.ipv6)]);
  return [...ownPaths('ipv4', v4), ...ownPaths('ipv6', v6)];
}

/** Sends a whole diff (drift repair), withdrawals first: unary calls for few changes, else one AddPathStream (stream.ts). */
export async function pushDiff(client: GobgpClient, diff: PathDiff): Promise<void> {
  const sink = new PathSink(client);
  try {
    await sink.withdraw(diff.withdraw);
    await sink.add(diff.add);
    await sink.finish();
  } catch (err) {
    sink.cancel();
    throw err;
  }
}
