/** Builders for normalised VIP configs (what the config loader would produce). */
import type { VipConfig } from '../../../src/config/types.js';
import type { CheckSpec, HealthPolicy, Requirement } from '../../../src/health/types.js';

export function policy(over: Partial<HealthPolicy> = {}): HealthPolicy {
  return { intervalMs: 2_000, fastIntervalMs: 500, timeoutMs: 1_000, rise: 2, fall: 2, jitter: 0, ...over };
}

export function vip(name: string, checks: CheckSpec[], over: Partial<HealthPolicy> = {}, require: Requirement = 'all'): VipConfig {
  return {
    name,
    prefix: '192.0.2.10/32',
    family: 'ipv4',
    address: '192.0.2.10',
    require,
    checks,
    policy: policy(over),
    attributes: { origin: 'igp', asPathPrepend: 0, communities: [], largeCommunities: [], extendedCommunities: [] },
    whenDown: 'withdraw',
    holdDownMs: 0,
  };
}

export function tcpSpec(host: string, port: number, over: Partial<CheckSpec> = {}): CheckSpec {
  return { type: 'tcp', label: `tcp:${host}:${port}`, host, port, passive: true, ...over } as CheckSpec;
}

export function httpSpec(url: string, over: Record<string, unknown> = {}): CheckSpec {
  return { type: 'http', label: `http:${url}`, url, method: 'GET', expectStatus: [[200, 299]], headers: {}, tlsSkipVerify: false, passive: true, ...over };
}

export function execSpec(command: string[], over: Record<string, unknown> = {}): CheckSpec {
  return { type: 'exec', label: `exec:${command.join(' ')}`, command, passive: false, ...over };
}

export function dnsSpec(host: string, port: number, name: string, record: 'A' | 'AAAA', over: Record<string, unknown> = {}): CheckSpec {
  return { type: 'dns', label: `dns:${name}/${record}`, host, port, name, record, passive: false, ...over };
}

export function grpcSpec(host: string, port: number, service = '', over: Record<string, unknown> = {}): CheckSpec {
  return { type: 'grpc', label: `grpc:${host}:${port}/${service}`, host, port, service, tls: false, tlsSkipVerify: false, passive: true, ...over };
}
