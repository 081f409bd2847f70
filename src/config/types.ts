/**
 * The validated, normalised configuration: what src/config/load.ts produces from vipcast.yaml
 * (snake_case YAML -> camelCase, durations in ms, defaults and per-VIP overrides applied).
 * Everything downstream consumes these types, never the raw YAML.
 */
import type { AddressFamily, NeighborSpec, RouteAttributes } from '../backend/types.js';
import type { CheckSpec, HealthPolicy, Requirement } from '../health/types.js';

export interface VipConfig {
  name: string;
  /** Canonical host prefix ("192.0.2.10/32", "2001:db8::10/128"). */
  prefix: string;
  family: AddressFamily;
  /** The address without the length. */
  address: string;
  require: Requirement;
  checks: CheckSpec[];
  policy: HealthPolicy;
  /** Attributes while healthy. */
  attributes: RouteAttributes;
  /** While unhealthy: withdraw, or keep advertising with these (complete, merged) attributes. */
  whenDown: 'withdraw' | { attributes: RouteAttributes };
  drainFile?: string;
  holdDownMs: number;
  bindInterface?: string;
}

export interface GobgpConfig {
  manage: boolean;
  apiVersion: 'auto' | 'v3' | 'v4';
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** Drift-repair period. */
  resyncIntervalMs: number;
}

export interface BgpConfig {
  localAs: number;
  routerId: string;
  /** host:port of the GoBGP gRPC API; absent = built-in speaker. */
  gobgpAddress?: string;
  gobgp: GobgpConfig;
  listen?: { address: string; port: number };
  holdTimeSec: number;
  nextHop: { ipv4?: string; ipv6?: string };
  neighbors: NeighborSpec[];
}

export interface VipcastConfig {
  /** Absolute path of the file this came from (for reload and messages). */
  source: string;
  bgp: BgpConfig;
  /** Defaults every VIP starts from. */
  health: HealthPolicy;
  vips: VipConfig[];
  shutdown: { gracefulCommunity: boolean; gracePeriodMs: number };
  admin: { host: string; port: number; tokenFile?: string };
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'; format: 'json' | 'pretty' };
}

/**
 * Stable classes of config problems (tests and tooling match these, never message text).
 * file_*, yaml_syntax and not_a_mapping concern the file as a whole; the rest a key.
 */
export type ConfigIssueCode =
  | 'file_unreadable'
  | 'file_too_large'
  | 'yaml_syntax'
  | 'env_unset'
  | 'not_a_mapping'
  | 'unknown_key'
  | 'required'
  | 'invalid_type'
  | 'invalid_value'
  | 'out_of_range'
  | 'duplicate'
  | 'conflict';

/** One problem found in a config file: `vipcast.yaml:14 vips[1].checks[0].url: invalid URL`. */
export interface ConfigIssue {
  file: string;
  code: ConfigIssueCode;
  /** 1-based line, when the path exists in the YAML. */
  line?: number;
  /** Dotted path with indices, e.g. "vips[1].checks[0].url"; "" for whole-file problems. */
  path: string;
  message: string;
}
