/**
 * Config loading: YAML text -> validated, normalised VipcastConfig, or a ConfigError listing
 * every problem with file, line and YAML path.
 *
 * Each top-level section is validated on its own so that a mistake in one never hides the
 * problems of another. Within a section, cross-key rules (e.g. require versus the number of
 * checks) run whenever the keys they compare parsed, even if other keys failed
 * (schema/cross-field.ts), so every problem shows in one run.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type * as z from 'zod';
import type { AddressFamily, NeighborSpec } from '../backend/types.js';
import { ConfigError } from './errors.js';
import { toConfigIssues } from './issues.js';
import { MAX_CONFIG_BYTES, readYaml } from './source.js';
import type { PathSegment, YamlSource } from './source.js';
import { bgpSchema } from './schema/bgp.js';
import type { ParsedNeighbor } from './schema/bgp.js';
import { healthSection, policyDefaults } from './schema/health.js';
import { adminSection, logSection, rootKeys, shutdownSection } from './schema/sections.js';
import { vipsSchema } from './schema/vips.js';
import { configWarnings } from './warnings.js';
import type { ConfigIssue, VipConfig, VipcastConfig } from './types.js';
import type { Env } from './env.js';

export interface LoadedConfig {
  config: VipcastConfig;
  /** Legal but probably unintended (e.g. IPv6 VIPs over IPv4-only sessions without a next hop). */
  warnings: ConfigIssue[];
}

/** Parses config text; `fileName` is used in messages and to resolve relative paths. Throws ConfigError. */
export function parseConfig(text: string, fileName: string, env: Env = process.env): VipcastConfig {
  return parseConfigWithWarnings(text, fileName, env).config;
}

/** `env` resolves `${NAME}` references in values (src/config/env.ts). */
export function parseConfigWithWarnings(text: string, fileName: string, env: Env = process.env): LoadedConfig {
  const read = readYaml(text, fileName, env);
  if (!read.ok) throw new ConfigError(read.issues);
  const { source } = read;
  const raw = source.value as Record<string, unknown>;
  const baseDir = dirname(resolve(fileName));
  const issues: ConfigIssue[] = [];

  const section = <T>(schema: z.ZodType<T>, value: unknown, prefix: PathSegment[]): T | undefined =>
    validate(schema, value, prefix, source, issues);
  const root = section(rootKeys, raw, []);
  const bgp = raw.bgp === undefined ? undefined : section(bgpSchema({ baseDir }), raw.bgp, ['bgp']);
  const health = section(healthSection, raw.health, ['health']);
  // The VIPs inherit what parsed of health: (a bad health.jitter must not silence their timing rules).
  const vips = section(vipsSchema({ baseDir, health: health ?? policyDefaults(raw.health), bindInterface: root?.bind_interface }), raw.vips, ['vips']);
  const shutdown = section(shutdownSection, raw.shutdown, ['shutdown']);
  const admin = section(adminSection({ baseDir }), raw.admin, ['admin']);
  const log = section(logSection, raw.log, ['log']);

  if (issues.length > 0 || !root || !bgp || !health || !vips || !shutdown || !admin || !log) {
    throw new ConfigError(byLine(issues));
  }
  const config: VipcastConfig = {
    source: resolve(fileName),
    bgp: { ...bgp, neighbors: withFamilies(bgp.neighbors, vips) },
    health,
    vips,
    shutdown,
    admin,
    log,
  };
  return { config, warnings: configWarnings(config, bgp.neighbors, source) };
}

/** Document order (stable, so issues on one line keep their schema order); line-less ones last. */
function byLine(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}

function validate<T>(schema: z.ZodType<T>, value: unknown, prefix: PathSegment[], source: YamlSource, into: ConfigIssue[]): T | undefined {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  into.push(...toConfigIssues(result.error.issues, prefix, source));
  return undefined;
}

/** Neighbors without `families:` carry the families the VIPs need (IPv4 when there are no VIPs). */
function withFamilies(neighbors: ParsedNeighbor[], vips: VipConfig[]): NeighborSpec[] {
  const needed: AddressFamily[] = (['ipv4', 'ipv6'] as const).filter((f) => vips.some((v) => v.family === f));
  const fallback: AddressFamily[] = needed.length > 0 ? needed : ['ipv4'];
  return neighbors.map((n) => ({ ...n, families: n.families ?? fallback }));
}

/** Reads and parses a config file. Throws ConfigError (also for an unreadable or oversized file). */
export async function loadConfig(path: string): Promise<VipcastConfig> {
  return (await loadConfigWithWarnings(path)).config;
}

export async function loadConfigWithWarnings(path: string): Promise<LoadedConfig> {
  const unreadable = (message: string, code: ConfigIssue['code'] = 'file_unreadable'): ConfigError =>
    new ConfigError([{ file: path, path: '', code, message }]);
  let text: string;
  try {
    // Checked before reading so a multi-GiB file (or /dev/zero) is never pulled into memory.
    const info = await stat(path);
    if (!info.isFile()) throw unreadable('not a regular file');
    if (info.size > MAX_CONFIG_BYTES) throw unreadable(`file is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB; not a vipcast config`, 'file_too_large');
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw unreadable(`cannot read: ${e.code ?? ''} ${e.message}`.trim());
  }
  return parseConfigWithWarnings(text, path);
}
