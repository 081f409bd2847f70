/**
 * The five check types. Each is a strict object keyed by `type`; the output is the health
 * engine's CheckSpec minus what depends on the VIP (effective timeout), which vips.ts fills in.
 *
 * `passive` (issue 7: event-driven detection) defaults to true for tcp, http and grpc, where a
 * connection to the target can be kept open. exec and dns have no such connection: the key is
 * refused there, and an exec check's passive detectors are its `watch_pid_file` (polled) and
 * its `watch_systemd_unit` (the unit's cgroup v2 `cgroup.events`, watched with inotify; see
 * ../../health/passive/unit-watch.ts). A unit is given by name (a service in system.slice, or a
 * template instance in its system-<template>.slice) or, anywhere else, by its cgroup path as
 * `systemctl show -p ControlGroup --value UNIT` prints it. Whether the host has cgroup v2 is
 * not the file's business: the watcher says so at start-up.
 */
import * as z from 'zod';
import { unitCgroupPath } from '../../health/passive/unit-cgroup.js';
import type { CheckSpec, DnsRecordType } from '../../health/types.js';
import { formatDuration } from '../duration.js';
import { formatHostPort } from '../net.js';
import { needs } from './cross-field.js';
import { duration, filePath, hostPort, report } from './primitives.js';
import type { SchemaContext } from './primitives.js';

const HOUR = 3_600_000;
const MIN_CONNECT_INTERVAL_MS = 50;

/** A check as the schema yields it: timeoutMs only when the check sets its own. */
export type ParsedCheck = CheckSpec & { labelSet: boolean };

const NO_PASSIVE = 'passive detection needs a connection to watch: it applies to tcp, http and grpc checks (exec checks: use watch_pid_file or watch_systemd_unit)';

const base = {
  timeout: duration(1, HOUR, '1ms..1h').optional(),
  /** Optional explicit label, for two checks that would otherwise derive the same one. */
  label: z.string().min(1).max(128).optional(),
};
const passiveKey = { passive: z.boolean().default(true) };
const noPassiveKey = { passive: z.never({ error: NO_PASSIVE }).optional() };

/** HTTP status codes: "200", "200-299", "200,204", 204, or a list of those. */
const statusItem = z.union([z.number(), z.string()]);

/** One "200" or "200-299" into an inclusive range, or undefined when malformed or outside 100-599. */
function statusRange(part: string | number): [number, number] | undefined {
  const m = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(String(part));
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return lo >= 100 && hi <= 599 && lo <= hi ? [lo, hi] : undefined;
}

const expectStatus = z
  .union([statusItem, z.array(statusItem).min(1)])
  .default('200-299')
  .transform((v, ctx) => {
    const items: Array<string | number> = Array.isArray(v) ? v : [v];
    const parts = items.flatMap((x): Array<string | number> => (typeof x === 'string' ? x.split(',') : [x]));
    const ranges: Array<[number, number]> = [];
    for (const part of parts) {
      const range = statusRange(part);
      if (!range) {
        report(ctx, 'invalid_value', `"${part}" is not a status or range of statuses within 100-599 (e.g. "200-299", "200,204")`);
        return z.NEVER;
      }
      ranges.push(range);
    }
    return ranges;
  });

/** RFC 9110 field-name token. */
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { message: 'not a valid HTTP header name' });
/** No CR/LF: a header value must not be able to inject further headers. */
const headerValue = z.string().regex(/^[^\r\n\0]*$/, { message: 'header values must not contain CR, LF or NUL' });

const httpUrl = z.string().transform((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    report(ctx, 'invalid_value', 'invalid URL');
    return z.NEVER;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    report(ctx, 'invalid_value', `invalid URL: scheme must be http or https, not ${url.protocol.slice(0, -1)}`);
    return z.NEVER;
  }
  return url;
});

function httpCheck() {
  return z
    .strictObject({
      type: z.literal('http'),
      ...base,
      ...passiveKey,
      url: httpUrl,
      method: z.enum(['GET', 'HEAD']).default('GET'),
      expect_status: expectStatus,
      body_contains: z.string().min(1).optional(),
      headers: z.record(headerName, headerValue).default({}),
      tls_skip_verify: z.boolean().default(false),
    })
    .superRefine(
      (c, ctx) => {
        if (c.tls_skip_verify && c.url.protocol !== 'https:') {
          report(ctx, 'conflict', 'tls_skip_verify only applies to https URLs', ['tls_skip_verify']);
        }
      },
      { when: needs('tls_skip_verify', 'url') },
    )
    .superRefine(
      (c, ctx) => {
        if (c.method === 'HEAD' && c.body_contains !== undefined) {
          report(ctx, 'conflict', 'body_contains needs a body: HEAD responses have none (use method: GET)', ['body_contains']);
        }
      },
      { when: needs('method', 'body_contains') },
    )
    .transform((c): ParsedCheck => ({
      type: 'http',
      label: c.label ?? `http:${c.url.host}${c.url.pathname}${c.url.search}`,
      labelSet: c.label !== undefined,
      timeoutMs: c.timeout,
      passive: c.passive,
      url: c.url.href,
      method: c.method,
      expectStatus: c.expect_status,
      bodyContains: c.body_contains,
      headers: c.headers,
      tlsSkipVerify: c.tls_skip_verify,
    }));
}

/**
 * `connect_interval` (tcp, passive only): how often a tcp check connects afresh while its held
 * connection stays open; between fresh connects a run passes on the held connection alone.
 * Whether it is at least the VIP's interval is checked in vips.ts (connectIntervalIssue), where
 * the interval is known.
 */
const NO_CONNECT_INTERVAL = 'connect_interval needs passive: true: between fresh connects the check relies on the held connection, which only passive detection keeps';

function tcpCheck() {
  return z
    .strictObject({
      type: z.literal('tcp'),
      ...base,
      ...passiveKey,
      address: hostPort(),
      connect_interval: duration(MIN_CONNECT_INTERVAL_MS, HOUR, '50ms..1h').optional(),
    })
    .superRefine(
      (c, ctx) => {
        if (c.connect_interval !== undefined && !c.passive) report(ctx, 'conflict', NO_CONNECT_INTERVAL, ['connect_interval']);
      },
      { when: needs('connect_interval', 'passive') },
    )
    .transform((c): ParsedCheck => ({
      type: 'tcp',
      label: c.label ?? `tcp:${formatHostPort(c.address.host, c.address.port)}`,
      labelSet: c.label !== undefined,
      timeoutMs: c.timeout,
      passive: c.passive,
      host: c.address.host,
      port: c.address.port,
      ...(c.connect_interval === undefined ? {} : { connectIntervalMs: c.connect_interval }),
    }));
}

/** A tcp check's connect_interval below the VIP's interval would be a fresh connect every run anyway: refused as a likely mistake. */
export function connectIntervalIssue(connectIntervalMs: number | undefined, intervalMs: number): string | undefined {
  if (connectIntervalMs === undefined || connectIntervalMs >= intervalMs) return undefined;
  return `connect_interval (${formatDuration(connectIntervalMs)}) must be at least the VIP's interval (${formatDuration(intervalMs)})`;
}

/** A unit name or cgroup path, resolved to the cgroup path relative to the cgroup v2 mount. */
const systemdUnit = z.string().transform((text, ctx) => {
  const r = unitCgroupPath(text);
  if (!r.ok) {
    report(ctx, 'invalid_value', r.message);
    return z.NEVER;
  }
  return r.path;
});

function execCheck(sctx: SchemaContext) {
  return z
    .strictObject({
      type: z.literal('exec'),
      ...base,
      ...noPassiveKey,
      // A list, never a shell string: no quoting rules to get wrong, no shell injection.
      command: z
        .array(z.string().min(1), {
          error: (iss) => (typeof iss.input === 'string' ? 'give the command as a list, e.g. ["/usr/bin/check", "--quick"]: no shell is involved' : undefined),
        })
        .min(1, { message: 'must name a program' }),
      watch_pid_file: filePath(sctx).optional(),
      watch_systemd_unit: systemdUnit.optional(),
    })
    .transform((c): ParsedCheck => ({
      type: 'exec',
      label: c.label ?? `exec:${c.command.join(' ')}`,
      labelSet: c.label !== undefined,
      timeoutMs: c.timeout,
      // The pid file's process and the unit's cgroup are exec's only event sources.
      passive: c.watch_pid_file !== undefined || c.watch_systemd_unit !== undefined,
      command: c.command,
      watchPidFile: c.watch_pid_file,
      ...(c.watch_systemd_unit === undefined ? {} : { watchSystemdUnit: c.watch_systemd_unit }),
    }));
}


const RECORDS = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT'] as const satisfies readonly DnsRecordType[];

function dnsCheck() {
  return z
    .strictObject({
      type: z.literal('dns'),
      ...base,
      ...noPassiveKey,
      server: hostPort(53),
      name: z.string().regex(/^([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,62})?)(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,62})?)*\.?$|^\.$/, {
        message: 'not a DNS name',
      }),
      record: z.enum(RECORDS).default('A'),
      expect: z.array(z.string().min(1)).min(1).optional(),
    })
    .transform((c): ParsedCheck => ({
      type: 'dns',
      label: c.label ?? `dns:${c.name}/${c.record}@${formatHostPort(c.server.host, c.server.port)}`,
      labelSet: c.label !== undefined,
      timeoutMs: c.timeout,
      passive: false,
      host: c.server.host,
      port: c.server.port,
      name: c.name,
      record: c.record,
      expect: c.expect,
    }));
}

function grpcCheck() {
  return z
    .strictObject({
      type: z.literal('grpc'),
      ...base,
      ...passiveKey,
      address: hostPort(),
      service: z.string().default(''),
      tls: z.boolean().default(false),
      tls_skip_verify: z.boolean().default(false),
    })
    .superRefine(
      (c, ctx) => {
        if (c.tls_skip_verify && !c.tls) report(ctx, 'conflict', 'tls_skip_verify only applies with tls: true', ['tls_skip_verify']);
      },
      { when: needs('tls_skip_verify', 'tls') },
    )
    .transform((c): ParsedCheck => ({
      type: 'grpc',
      label: c.label ?? `grpc:${formatHostPort(c.address.host, c.address.port)}${c.service === '' ? '' : `/${c.service}`}`,
      labelSet: c.label !== undefined,
      timeoutMs: c.timeout,
      passive: c.passive,
      host: c.address.host,
      port: c.address.port,
      service: c.service,
      tls: c.tls,
      tlsSkipVerify: c.tls_skip_verify,
    }));
}

export const CHECK_TYPES = ['http', 'tcp', 'exec', 'dns', 'grpc'] as const;

export function checkSchema(sctx: SchemaContext) {
  return z.discriminatedUnion('type', [httpCheck(), tcpCheck(), execCheck(sctx), dnsCheck(), grpcCheck()]);
}
