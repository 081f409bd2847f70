/**
 * `bgp:`: the local speaker, the backend choice (GoBGP when gobgp_address is set, else the
 * built-in speaker) and the neighbors. Neighbor families are left undefined here when not
 * written; load.ts fills them with the families the VIPs need.
 */
import * as z from 'zod';
import type { AddressFamily, NeighborSpec } from '../../backend/types.js';
import { formatHostPort } from '../net.js';
import type { GobgpConfig } from '../types.js';
import { needs, partsOf } from './cross-field.js';
import type { Parts } from './cross-field.js';
import { asNumber, duration, filePath, hostPort, intIn, ipAddress, port, report } from './primitives.js';
import type { SchemaContext } from './primitives.js';

/**
 * RFC 4271 §4.2: the hold time is 0 (no keepalives) or at least 3 seconds, in whole seconds
 * (a 16-bit field).
 */
export const holdTime = duration(0, 65_535_000, '0s or 3s..65535s').superRefine((ms, ctx) => {
  if (ms % 1000 !== 0 || (ms > 0 && ms < 3000)) {
    report(ctx, 'out_of_range', 'hold time must be 0 or 3s..65535s in whole seconds (RFC 4271 §4.2)');
  }
}).transform((ms) => ms / 1000);

const family = z.enum(['ipv4', 'ipv6']);

export type ParsedNeighbor = Omit<NeighborSpec, 'families'> & { families: AddressFamily[] | undefined };

function neighborSchema(sctx: SchemaContext) {
  return z
    .strictObject({
      address: ipAddress(),
      remote_as: asNumber,
      port: port.default(179),
      description: z.string().optional(),
      passive: z.boolean().default(false),
      ebgp_multihop: intIn(0, 255).default(0),
      // GTSM, RFC 5082: send TTL 255, accept >= 256 - max(ebgp_multihop, 1).
      ttl_security: z.boolean().default(false),
      local_address: ipAddress().optional(),
      families: z
        .array(family)
        .min(1, { message: 'must list at least one family' })
        .superRefine(
          (fs, ctx) => {
            const parts = partsOf(ctx);
            const valid = fs.filter((_f, i) => parts.ok(i));
            if (new Set(valid).size !== valid.length) report(ctx, 'duplicate', 'a family is listed twice');
          },
          { when: needs('[]') },
        )
        .optional(),
      hold_time: holdTime.optional(),
      // TCP-MD5 (RFC 2385), both backends: gobgpd's auth_password, or TCP_MD5SIG set by the
      // built-in speaker (src/speaker/session/md5.ts). The file is read when the backend starts:
      // 1-80 bytes after one trailing newline is trimmed.
      password_file: filePath(sctx).optional(),
    })
    .superRefine(
      (n, ctx) => {
        if (n.local_address !== undefined && n.local_address.includes(':') !== n.address.includes(':')) {
          report(ctx, 'conflict', `local_address ${n.local_address} and address ${n.address} are of different families`, ['local_address']);
        }
      },
      { when: needs('address', 'local_address') },
    );
}

function gobgpSchema(sctx: SchemaContext) {
  return z
    .strictObject({
      manage: z.boolean().default(true),
      api_version: z.enum(['auto', 'v3', 'v4']).default('auto'),
      tls: z
        .strictObject({ ca_file: filePath(sctx).optional(), cert_file: filePath(sctx).optional(), key_file: filePath(sctx).optional() })
        .superRefine(
          (t, ctx) => {
            if ((t.cert_file === undefined) !== (t.key_file === undefined)) {
              report(ctx, 'conflict', 'cert_file and key_file go together (client certificate and its key)', [t.cert_file === undefined ? 'cert_file' : 'key_file']);
            }
          },
          { when: needs('cert_file', 'key_file') },
        )
        .optional(),
      resync_interval: duration(1_000, 86_400_000, '1s..24h').prefault('30s'),
    })
    .transform((g): GobgpConfig => ({
      manage: g.manage,
      apiVersion: g.api_version,
      tls: g.tls && { caFile: g.tls.ca_file, certFile: g.tls.cert_file, keyFile: g.tls.key_file },
      resyncIntervalMs: g.resync_interval,
    }));
}

/** What an absent gobgp: block means (also for the built-in speaker, where it is unused). */
export const DEFAULT_GOBGP: GobgpConfig = { manage: true, apiVersion: 'auto', resyncIntervalMs: 30_000 };

export function bgpSchema(sctx: SchemaContext) {
  return z
    .strictObject({
      local_as: asNumber,
      router_id: ipAddress('ipv4'),
      gobgp_address: hostPort().optional(),
      gobgp: gobgpSchema(sctx).optional(),
      listen: z.strictObject({ address: ipAddress().default('::'), port: port.default(179) }).optional(),
      hold_time: holdTime.prefault('90s'),
      next_hop: z.strictObject({ ipv4: ipAddress('ipv4').optional(), ipv6: ipAddress('ipv6').optional() }).prefault({}),
      neighbors: z.array(neighborSchema(sctx)).default([]),
    })
    // Which backend is meant is only known when gobgp_address parsed: every backend rule needs it.
    .superRefine(
      (b, ctx) => {
        if (b.gobgp_address === undefined && b.gobgp !== undefined) {
          report(ctx, 'conflict', 'the gobgp: block configures the GoBGP backend, which needs bgp.gobgp_address', ['gobgp']);
        }
      },
      { when: needs('gobgp_address') },
    )
    .superRefine(
      (b, ctx) => {
        if (b.gobgp_address !== undefined && b.gobgp?.manage === false) checkUnmanaged(b, ctx);
      },
      { when: needs('gobgp_address', 'gobgp.manage', 'neighbors[]') },
    )
    .superRefine(
      (b, ctx) => {
        if (b.gobgp_address === undefined && b.neighbors.length === 0) {
          report(ctx, 'required', 'the built-in speaker needs at least one neighbor', ['neighbors']);
        }
      },
      { when: needs('gobgp_address', 'neighbors[]') },
    )
    .superRefine((b, ctx) => checkNeighborBackend(b, b.gobgp_address !== undefined, partsOf(ctx), ctx), { when: needs('gobgp_address', 'neighbors[]') })
    .superRefine((b, ctx) => uniqueNeighbors(b, partsOf(ctx), ctx), { when: needs('neighbors[]') })
    .transform((b) => ({
      localAs: b.local_as,
      routerId: b.router_id,
      gobgpAddress: b.gobgp_address && formatHostPort(b.gobgp_address.host, b.gobgp_address.port),
      gobgp: b.gobgp ?? DEFAULT_GOBGP,
      listen: b.listen,
      holdTimeSec: b.hold_time,
      nextHop: b.next_hop,
      neighbors: b.neighbors.map(
        (n): ParsedNeighbor => ({
          address: n.address,
          port: n.port,
          remoteAs: n.remote_as,
          description: n.description,
          passive: n.passive,
          ebgpMultihop: n.ebgp_multihop,
          ...(n.ttl_security ? { ttlSecurity: true } : {}),
          localAddress: n.local_address,
          families: n.families,
          holdTimeSec: n.hold_time ?? b.hold_time,
          passwordFile: n.password_file,
        }),
      ),
    }));
}

type Ctx = { addIssue: z.core.$RefinementCtx['addIssue'] };
type RawBgp = { listen?: unknown; neighbors: Array<{ address: string; passive: boolean; ttl_security: boolean }> };

/** manage: false: gobgpd's own config owns global settings and neighbors; vipcast only its paths. */
function checkUnmanaged(b: RawBgp, ctx: Ctx): void {
  const why = 'with gobgp.manage: false gobgpd\'s own config owns it; remove it here or set manage: true';
  if (b.listen !== undefined) report(ctx, 'conflict', `listen has no effect: ${why}`, ['listen']);
  if (b.neighbors.length > 0) report(ctx, 'conflict', `neighbors have no effect: ${why}`, ['neighbors']);
}

/** Addresses compare in canonical form (ipAddress() canonicalises), among the neighbors whose address parsed. */
function uniqueNeighbors(b: RawBgp, parts: Parts, ctx: Ctx): void {
  const seen = new Map<string, number>();
  b.neighbors.forEach((n, i) => {
    if (!parts.ok('neighbors', i, 'address')) return;
    const first = seen.get(n.address);
    if (first !== undefined) report(ctx, 'duplicate', `neighbor ${n.address} is already neighbors[${first}]`, ['neighbors', i, 'address']);
    else seen.set(n.address, i);
  });
}

/** Per-neighbor keys one backend cannot honour; each read only where it parsed. */
function checkNeighborBackend(b: RawBgp, gobgp: boolean, parts: Parts, ctx: Ctx): void {
  b.neighbors.forEach((n, i) => {
    if (gobgp && parts.ok('neighbors', i, 'ttl_security') && n.ttl_security) {
      report(ctx, 'conflict', 'ttl_security (GTSM) is implemented by the built-in speaker only; vipcast does not configure it in gobgpd', ['neighbors', i, 'ttl_security']);
    }
    // A listen: that failed to parse is still written: the operator meant one, so no conflict.
    if (!gobgp && parts.ok('neighbors', i, 'passive') && n.passive && b.listen === undefined) {
      report(ctx, 'conflict', 'a passive neighbor waits for the peer to connect: the built-in speaker then needs bgp.listen', ['neighbors', i, 'passive']);
    }
  });
}
