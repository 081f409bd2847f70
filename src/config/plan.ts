/**
 * The human-readable plan `vipcast check` prints: what vipcast would do with a config
 * (backend, peers, each VIP with its checks, timing and attributes up and down).
 */
import type { RouteAttributes } from '../backend/types.js';
import type { CheckSpec } from '../health/types.js';
import { formatDuration } from './duration.js';
import { formatIssue } from './errors.js';
import { formatHostPort } from './net.js';
import type { ConfigIssue, VipConfig, VipcastConfig } from './types.js';

/** Left-aligned columns, two spaces apart; trailing spaces trimmed. */
export function table(rows: string[][], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => (indent + row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')).trimEnd());
}

function backendLines(c: VipcastConfig): string[][] {
  const b = c.bgp;
  const listen = b.listen ? `listening on ${formatHostPort(b.listen.address, b.listen.port)}` : 'active sessions only (no bgp.listen)';
  if (b.gobgpAddress === undefined) return [['Backend', `built-in speaker, ${listen}`]];
  const g = b.gobgp;
  const tls = g.tls ? `TLS${g.tls.certFile ? ' with client certificate' : ''}` : 'plaintext';
  const rows = [
    ['Backend', `GoBGP daemon at ${b.gobgpAddress} (gRPC, ${tls}, API ${g.apiVersion})`],
    ['', g.manage ? `manage: vipcast configures gobgpd's global settings and neighbors${b.listen ? `, ${listen}` : ''}` : "manage: false: gobgpd's own config owns global settings and neighbors"],
    ['', `drift repair every ${formatDuration(g.resyncIntervalMs)}`],
  ];
  return rows;
}

function peerLines(c: VipcastConfig): string[] {
  if (c.bgp.neighbors.length === 0) return ['Peers: none configured here'];
  const rows = [['ADDRESS', 'PORT', 'AS', 'FAMILIES', 'HOLD', 'MODE', 'NOTES']];
  for (const n of c.bgp.neighbors) {
    const notes = [
      n.description,
      n.localAddress && `local ${n.localAddress}`,
      n.ebgpMultihop > 0 ? `multihop ttl ${n.ebgpMultihop}` : undefined,
      n.ttlSecurity ? `ttl_security (GTSM, accept ttl >= ${256 - Math.min(Math.max(n.ebgpMultihop, 1), 255)})` : undefined,
      // The file's path only: the password is read by the backend, never printed.
      n.passwordFile && `md5 (TCP-MD5 password from ${n.passwordFile})`,
      n.remoteAs === c.bgp.localAs ? 'iBGP' : 'eBGP',
    ].filter((x): x is string => !!x);
    rows.push([n.address, String(n.port), String(n.remoteAs), n.families.join(','), `${n.holdTimeSec}s`, n.passive ? 'passive' : 'active', notes.join('; ')]);
  }
  return [`Peers (${c.bgp.neighbors.length})`, ...table(rows, '  ')];
}

export function formatAttributes(a: RouteAttributes): string {
  const parts = [`origin ${a.origin}`];
  if (a.nextHop) parts.push(`next-hop ${a.nextHop}`);
  if (a.med !== undefined) parts.push(`med ${a.med}`);
  if (a.localPref !== undefined) parts.push(`local-pref ${a.localPref}`);
  if (a.asPathPrepend > 0) parts.push(`prepend ${a.asPathPrepend}`);
  if (a.communities.length > 0) parts.push(`communities ${a.communities.join(' ')}`);
  if (a.largeCommunities.length > 0) parts.push(`large ${a.largeCommunities.join(' ')}`);
  if (a.extendedCommunities.length > 0) parts.push(`extended ${a.extendedCommunities.join(' ')}`);
  return parts.join(', ');
}

function target(c: CheckSpec): string {
  switch (c.type) {
    case 'http':
      return `${c.method} ${c.url} expect ${c.expectStatus.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',')}${c.bodyContains ? ` body~"${c.bodyContains}"` : ''}${c.tlsSkipVerify ? ' (TLS unverified)' : ''}`;
    case 'tcp':
      return `connect ${formatHostPort(c.host, c.port)}${c.connectIntervalMs === undefined ? '' : ` every ${formatDuration(c.connectIntervalMs)} (held connection in between)`}`;
    case 'exec':
      return c.command.join(' ');
    case 'dns':
      return `${c.name} ${c.record} @${formatHostPort(c.host, c.port)}${c.expect ? ` expect ${c.expect.join(',')}` : ''}`;
    case 'grpc':
      return `grpc.health.v1 ${formatHostPort(c.host, c.port)} service "${c.service}"${c.tls ? (c.tlsSkipVerify ? ' TLS unverified' : ' TLS') : ''}`;
  }
}

/** Which detectors run a check (issue 7): the periodic one always, a passive one where configured. */
function detector(c: CheckSpec): string {
  if (!c.passive) return 'periodic';
  if (c.type === 'exec') {
    const watched = [c.watchPidFile && `pid ${c.watchPidFile}`, c.watchSystemdUnit && `unit ${c.watchSystemdUnit}`].filter(Boolean);
    return ['periodic', ...watched].join(' + ');
  }
  return 'periodic + passive';
}

function vipLines(v: VipConfig): string[] {
  const p = v.policy;
  const require = `${v.require} of ${v.checks.length}`;
  const checks = table(v.checks.map((c) => [c.label, c.type, target(c), `timeout ${formatDuration(c.timeoutMs ?? p.timeoutMs)}`, detector(c)]), '      ');
  const rows = [
    ['require', `${require} checks`],
    ['timing', `interval ${formatDuration(p.intervalMs)}, fast ${formatDuration(p.fastIntervalMs)}, timeout ${formatDuration(p.timeoutMs)}, rise ${p.rise}, fall ${p.fall}, jitter ${Math.round(p.jitter * 1000) / 10}%`],
    ['up', formatAttributes(v.attributes)],
    ['down', v.whenDown === 'withdraw' ? 'withdraw' : `keep advertising with ${formatAttributes(v.whenDown.attributes)}`],
    ['hold-down', formatDuration(v.holdDownMs)],
    ['drain file', v.drainFile ?? '(none)'],
    ['interface', v.bindInterface ?? '(addresses not bound)'],
  ];
  return [`  ${v.name}  ${v.prefix}`, ...table(rows, '    '), '    checks', ...checks];
}

export function formatPlan(c: VipcastConfig, warnings: readonly ConfigIssue[] = []): string {
  const b = c.bgp;
  const nextHop = [b.nextHop.ipv4 && `ipv4 ${b.nextHop.ipv4}`, b.nextHop.ipv6 && `ipv6 ${b.nextHop.ipv6}`].filter(Boolean).join(', ');
  const admin = `${formatHostPort(c.admin.host, c.admin.port)}${c.admin.tokenFile ? `, token from ${c.admin.tokenFile}` : ', no token_file: POSTs refused'}`;
  const shutdown = `${c.shutdown.gracefulCommunity ? 'graceful-shutdown community (65535:0), then ' : ''}withdraw after ${formatDuration(c.shutdown.gracePeriodMs)}`;
  const lines = [
    `vipcast plan for ${c.source}`,
    '',
    ...table([
      ...backendLines(c),
      ['Local', `AS ${b.localAs}, router id ${b.routerId}, hold time ${b.holdTimeSec}s`],
      ['Next hop', nextHop || "the session's local address"],
      ['Shutdown', shutdown],
      ['Admin', admin],
      ['Log', `${c.log.level}, ${c.log.format}`],
    ]),
    '',
    ...peerLines(c),
    '',
    `VIPs (${c.vips.length})`,
    ...c.vips.flatMap((v) => [...vipLines(v), '']),
  ];
  if (warnings.length > 0) lines.push(`Warnings (${warnings.length})`, ...warnings.map((w) => `  ${formatIssue(w)}`), '');
  return lines.join('\n');
}
