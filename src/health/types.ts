/**
 * Normalised health-check specifications (what the config loader produces and the health
 * engine consumes): durations in milliseconds, defaults applied, addresses split.
 */

/** Timing and hysteresis for one VIP's checks. */
export interface HealthPolicy {
  intervalMs: number;
  /** Used while a result is changing, until rise/fall settles. */
  fastIntervalMs: number;
  timeoutMs: number;
  /** Consecutive successes to become healthy. */
  rise: number;
  /** Consecutive failures to become unhealthy. */
  fall: number;
  /**
   * Random spread of each interval, as a fraction: the interval varies by ±jitter, the
   * fast_interval only by +jitter (so the anti-flap bound min(rise, fall) × fast_interval holds).
   */
  jitter: number;
}

interface CheckBase {
  /** Stable label for metrics and reasons, e.g. "http:127.0.0.1:8080/healthz"; unique within a VIP. */
  label: string;
  /** Override of the VIP's policy timeout. */
  timeoutMs?: number;
  /** Event-driven detection (issue 7): keep a connection open and re-check the moment it drops. */
  passive: boolean;
}

export interface HttpCheckSpec extends CheckBase {
  type: 'http';
  url: string;
  method: 'GET' | 'HEAD';
  /** Inclusive status ranges, e.g. [[200, 299]]. */
  expectStatus: Array<[number, number]>;
  bodyContains?: string;
  headers: Record<string, string>;
  tlsSkipVerify: boolean;
}

export interface TcpCheckSpec extends CheckBase {
  type: 'tcp';
  host: string;
  port: number;
  /**
   * `connect_interval` (passive only): a run passes without a new connection while the held
   * connection to the target is open and the last fresh connect is younger than this. Absent:
   * a fresh connect every run.
   */
  connectIntervalMs?: number;
}

export interface ExecCheckSpec extends CheckBase {
  type: 'exec';
  command: string[];
  /** Process whose exit triggers an immediate re-check (issue 7). */
  watchPidFile?: string;
  /**
   * Cgroup of a systemd unit whose emptying triggers an immediate re-check (issue 7), relative
   * to the cgroup v2 mount, e.g. "system.slice/nginx.service" (resolved by the config loader).
   */
  watchSystemdUnit?: string;
}

export type DnsRecordType = 'A' | 'AAAA' | 'CNAME' | 'MX' | 'NS' | 'PTR' | 'SOA' | 'SRV' | 'TXT';

export interface DnsCheckSpec extends CheckBase {
  type: 'dns';
  host: string;
  port: number;
  name: string;
  record: DnsRecordType;
  /** If set, at least one answer must equal one of these. */
  expect?: string[];
}

export interface GrpcCheckSpec extends CheckBase {
  type: 'grpc';
  host: string;
  port: number;
  /** grpc.health.v1 service name; "" = the server as a whole. */
  service: string;
  tls: boolean;
  tlsSkipVerify: boolean;
}

export type CheckSpec = HttpCheckSpec | TcpCheckSpec | ExecCheckSpec | DnsCheckSpec | GrpcCheckSpec;
export type CheckType = CheckSpec['type'];

/** What triggered a check run. */
export type Detector = 'periodic' | 'passive' | 'initial';

export interface CheckResult {
  ok: boolean;
  /** Why, e.g. "connect ECONNREFUSED 127.0.0.1:8080", "status 503 not in 200-299", "ok". */
  reason: string;
  durationMs: number;
  detector: Detector;
  /** Failure class (added by the health engine; optional). */
  code?: CheckCode;
}

/** How many checks of a VIP must pass. */
export type Requirement = 'all' | 'any' | number;

/**
 * Stable codes for down results, so tests, metrics and the admin API can tell failure classes
 * apart without parsing reason text. Reasons stay human; codes stay fixed.
 */
export type CheckCode =
  | 'OK'
  | 'TIMEOUT'
  | 'STUCK'
  | 'CONNECT_REFUSED'
  | 'CONNECT_ERROR'
  | 'HTTP_STATUS'
  | 'HTTP_BODY'
  | 'HTTP_ERROR'
  | 'DNS_NXDOMAIN'
  | 'DNS_SERVFAIL'
  | 'DNS_NODATA'
  | 'DNS_MISMATCH'
  | 'DNS_ERROR'
  | 'GRPC_NOT_SERVING'
  | 'GRPC_SERVICE_UNKNOWN'
  | 'GRPC_UNAVAILABLE'
  | 'GRPC_ERROR'
  | 'EXEC_ENOENT'
  | 'EXEC_EXIT'
  | 'EXEC_SIGNAL'
  | 'EXEC_ERROR'
  | 'INTERNAL';

/** A VIP's health as the engine reports it (BgpManager, admin API, metrics). */
export interface VipHealth {
  name: string;
  healthy: boolean;
  /** "starting", "ok", or the failing checks with their reasons. */
  reason: string;
  /** When `healthy` last flipped (or when the engine started the VIP). */
  since: Date;
  /** What fired the chain of checks behind the last transition ('initial' before any). */
  lastDetector: Detector;
  checks: Array<{ label: string; type: CheckType; ok: boolean | undefined; reason: string; durationMs: number; at?: Date; code?: CheckCode }>;
}
