/** The small top-level sections (shutdown, admin, log) and the root's key list. */
import * as z from 'zod';
import { duration, filePath, hostPort, interfaceName } from './primitives.js';
import type { SchemaContext } from './primitives.js';

export const shutdownSection = z
  .strictObject({
    // RFC 8326: tag routes with GRACEFUL_SHUTDOWN so peers move traffic away before the withdraw.
    graceful_community: z.boolean().default(true),
    grace_period: duration(0, 600_000, '0s..10m').prefault('5s'),
  })
  .prefault({})
  .transform((s) => ({ gracefulCommunity: s.graceful_community, gracePeriodMs: s.grace_period }));

export const DEFAULT_ADMIN_LISTEN = '127.0.0.1:9179';

export function adminSection(sctx: SchemaContext) {
  return z
    .strictObject({
      listen: hostPort().prefault(DEFAULT_ADMIN_LISTEN),
      token_file: filePath(sctx).optional(),
    })
    .prefault({})
    .transform((a) => ({ host: a.listen.host, port: a.listen.port, tokenFile: a.token_file }));
}

export const logSection = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
    format: z.enum(['json', 'pretty']).default('json'),
  })
  .prefault({});

/**
 * The root: only which keys exist. Each section is parsed on its own (load.ts) so that one
 * invalid section never hides the problems of another.
 */
export const rootKeys = z.strictObject({
  bgp: z.unknown().refine((v) => v !== undefined, { message: 'required', params: { code: 'required' } }),
  health: z.unknown().optional(),
  vips: z.unknown().optional(),
  shutdown: z.unknown().optional(),
  admin: z.unknown().optional(),
  log: z.unknown().optional(),
  /** Default interface for every VIP's bind_interface. */
  bind_interface: interfaceName.optional(),
});
