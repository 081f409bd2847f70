/**
 * Which API generation does the daemon serve? gRPC reflection is usually off in GoBGP, so ask
 * both: GetBgp is cheap and exists in both; the generation the daemon does not serve answers
 * UNIMPLEMENTED ("unknown service apipb.GobgpApi"). v4 is tried first (the current release).
 */
import type { ChannelCredentials } from '@grpc/grpc-js';
import { GobgpClient, type ClientTimeouts, DEFAULT_TIMEOUTS } from './client.js';
import type { ApiVersion } from './generation.js';
import type { ApiGlobal } from './types.js';
import { GobgpError, isUnimplemented } from '../errors.js';

export interface Connected {
  client: GobgpClient;
  /** GetBgp's answer, so the caller need not ask again. */
  global: ApiGlobal;
}

/**
 * Connects with the forced generation, or detects it. Throws GOBGP_UNAVAILABLE when the daemon does
 * not answer (the caller retries), GOBGP_API_UNSUPPORTED when it answers but serves neither / not
 * the forced one.
 */
export async function connect(
  address: string,
  apiVersion: 'auto' | ApiVersion,
  credentials: ChannelCredentials,
  timeouts: ClientTimeouts = DEFAULT_TIMEOUTS,
  probeDeadlineMs = 2_000,
  /** With auto: the generation seen last time, asked first (a restarted sidecar rarely changes version). */
  prefer: ApiVersion = 'v4',
): Promise<Connected> {
  const order: ApiVersion[] = apiVersion === 'auto' ? [prefer, prefer === 'v4' ? 'v3' : 'v4'] : [apiVersion];
  const refused: string[] = [];
  for (const version of order) {
    const client = new GobgpClient(address, version, credentials, timeouts);
    try {
      const global = await client.getBgp(probeDeadlineMs);
      return { client, global };
    } catch (err) {
      client.close();
      if (!isUnimplemented(err)) throw err;
      refused.push(`${version} (${client.generation.service}): ${(err as Error).message}`);
    }
  }
  throw new GobgpError(
    'GOBGP_API_UNSUPPORTED',
    `gobgpd at ${address} serves ${apiVersion === 'auto' ? 'neither GoBGP API v4 nor v3' : `no GoBGP API ${apiVersion}`}: ${refused.join('; ')}`,
  );
}
