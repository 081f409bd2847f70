/**
 * Building blocks of the config schema: zod types for durations, ports, AS numbers, addresses,
 * names and paths. Problems are raised as zod issues whose `params.code` is the stable
 * ConfigIssueCode (see ../issues.ts for the translation to ConfigIssue).
 */
import { isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import type { AddressFamily } from '../../backend/types.js';
import { parseDuration } from '../duration.js';
import { canonicalIp, hostPrefix, parseHostPort } from '../net.js';
import type { HostPort, HostPrefix } from '../net.js';
import type { ConfigIssueCode } from '../types.js';

/** What schemas that depend on other sections or on the file's location receive. */
export interface SchemaContext {
  /** Directory of the config file: relative paths in the config are resolved against it. */
  baseDir: string;
}

type Ctx = z.core.$RefinementCtx<unknown>;

/** Adds an issue with a stable code; `path` is relative to the value being checked. */
export function report(ctx: { addIssue: Ctx['addIssue'] }, code: ConfigIssueCode, message: string, path: PropertyKey[] = []): void {
  ctx.addIssue({ code: 'custom', message, path, params: { code }, input: undefined });
}

/** Integer within [min, max]; one clear message instead of zod's separate int/min/max ones. */
export function intIn(min: number, max: number) {
  return z.number().refine((n) => Number.isInteger(n) && n >= min && n <= max, {
    message: `must be an integer in ${min}..${max}`,
    params: { code: 'out_of_range' },
  });
}

export const port = intIn(1, 65535);
/** 4-octet AS numbers (RFC 6793); 0 is reserved (RFC 7607). */
export const asNumber = intIn(1, 4294967295);
/** MED, LOCAL_PREF: 32-bit unsigned. */
export const uint32 = intIn(0, 4294967295);

/** Duration with a unit ("500ms", "2s", "1m"), in ms, within [minMs, maxMs]. */
export function duration(minMs = 0, maxMs = Number.MAX_SAFE_INTEGER, rangeText?: string) {
  return z
    .string({
      error: (iss) =>
        typeof iss.input === 'number' ? `duration needs a unit: write "${iss.input}s" or "${iss.input}ms"` : undefined,
    })
    .transform((text, ctx) => {
      const d = parseDuration(text);
      if (!d.ok) {
        report(ctx, 'invalid_value', d.message);
        return z.NEVER;
      }
      if (d.ms < minMs || d.ms > maxMs) {
        report(ctx, 'out_of_range', `${text} is out of range: must be ${rangeText ?? `${minMs}ms..${maxMs}ms`}`);
        return z.NEVER;
      }
      return d.ms;
    });
}

/** Percentage "10%" as a fraction (0.1), within [0, maxPercent]. */
export function percent(maxPercent: number) {
  return z.string({ error: (iss) => (typeof iss.input === 'number' ? `write a percentage, e.g. "${iss.input}%"` : undefined) }).transform((text, ctx) => {
    const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(text.trim());
    if (!m) {
      report(ctx, 'invalid_value', `"${text}" is not a percentage like "10%"`);
      return z.NEVER;
    }
    const p = Number(m[1]);
    if (p > maxPercent) {
      report(ctx, 'out_of_range', `${text} is out of range: must be 0%..${maxPercent}%`);
      return z.NEVER;
    }
    return p / 100;
  });
}

/** An IP literal in canonical form, optionally of one family. */
export function ipAddress(family?: AddressFamily) {
  return z.string().transform((text, ctx) => {
    const ip = canonicalIp(text);
    if (!ip.ok) {
      report(ctx, 'invalid_value', ip.message);
      return z.NEVER;
    }
    if (family && ip.value.family !== family) {
      report(ctx, 'invalid_value', `"${text}" is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`);
      return z.NEVER;
    }
    return ip.value.address;
  });
}

/** A VIP prefix: host route only, canonicalised (bare address -> /32 or /128). */
export const vipPrefix = z.string().transform((text, ctx): HostPrefix => {
  const p = hostPrefix(text);
  if (!p.ok) {
    report(ctx, 'invalid_value', p.message);
    return z.NEVER;
  }
  return p.value;
});

/** "host:port" / "[v6]:port"; with defaultPort the port may be omitted. */
export function hostPort(defaultPort?: number) {
  return z.string().transform((text, ctx): HostPort => {
    const hp = parseHostPort(text, defaultPort);
    if (!hp.ok) {
      report(ctx, 'invalid_value', hp.message);
      return z.NEVER;
    }
    return hp.value;
  });
}

/** Names of VIPs (used in metrics, API paths and drain commands): lower case, digits, inner hyphens. */
export const name = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { message: 'must be 1-63 characters of a-z, 0-9 and inner hyphens' });

/** A file path; relative paths resolve against the config file's directory (so examples work from any cwd). */
export function filePath(ctx: SchemaContext) {
  return z
    .string()
    .min(1, { message: 'must not be empty' })
    .transform((p) => (isAbsolute(p) ? p : resolve(ctx.baseDir, p)));
}

/**
 * Linux interface name: at most 15 bytes (IFNAMSIZ 16 with the NUL), no slash, colon or
 * whitespace (the kernel's dev_valid_name rules).
 */
export const interfaceName = z
  .string()
  .regex(/^[^/:\s]{1,15}$/, { message: 'must be an interface name of 1-15 characters without "/", ":" or spaces' })
  .refine((s) => s !== '.' && s !== '..', { message: 'not a valid interface name', params: { code: 'invalid_value' } });
