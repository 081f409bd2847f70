/**
 * Address helpers for the config: canonical IP forms, host prefixes and "host:port" strings.
 * Pure functions; the zod schemas in ./schema wrap them.
 */
import { isIP } from 'node:net';
import type { AddressFamily } from '../backend/types.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export interface CanonicalIp {
  address: string;
  family: AddressFamily;
}

/**
 * Validates an IP literal (node:net isIP) and returns its canonical text: IPv4 as is (isIP
 * already rejects leading zeros), IPv6 in RFC 5952 form (lower case, zeros compressed), which
 * the WHATWG URL serialiser produces. Zone ids ("fe80::1%eth0") are refused: neither backend
 * can bind a route or a session to one.
 */
export function canonicalIp(text: string): Parsed<CanonicalIp> {
  if (text.includes('%')) return { ok: false, message: `"${text}": zone ids (%iface) are not supported` };
  const version = isIP(text);
  if (version === 4) return { ok: true, value: { address: text, family: 'ipv4' } };
  if (version === 6) {
    const address = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    return { ok: true, value: { address, family: 'ipv6' } };
  }
  return { ok: false, message: `"${text}" is not an IP address` };
}

export interface HostPrefix extends CanonicalIp {
  /** "192.0.2.10/32" or "2001:db8::10/128". */
  prefix: string;
}

/**
 * A VIP is a host route: "192.0.2.10", "192.0.2.10/32", "2001:db8::10", "2001:db8::10/128".
 * Shorter prefixes are refused because vipcast advertises a service address, not a subnet:
 * announcing 192.0.2.0/24 for one healthy backend would attract traffic for 255 others.
 */
export function hostPrefix(text: string): Parsed<HostPrefix> {
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const ip = canonicalIp(addrText);
  if (!ip.ok) return ip;
  const full = ip.value.family === 'ipv4' ? 32 : 128;
  if (slash !== -1) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText)) return { ok: false, message: `"${text}": invalid prefix length` };
    if (Number(lenText) !== full) {
      return { ok: false, message: `"${text}": only host routes (/${full}) are allowed: a VIP is one address` };
    }
  }
  return { ok: true, value: { ...ip.value, prefix: `${ip.value.address}/${full}` } };
}

export interface HostPort {
  /** IP (canonical) or host name (lower case). */
  host: string;
  port: number;
  /** Set when host is an IP literal. */
  family?: AddressFamily;
}

/** Parses "host:port", "[v6]:port", and, when defaultPort is given, "host" / "[v6]" / a bare v6 address. */
export function parseHostPort(text: string, defaultPort?: number): Parsed<HostPort> {
  let hostText: string;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracket) {
    hostText = bracket[1] ?? '';
    portText = bracket[2];
    if (isIP(hostText) !== 6) return { ok: false, message: `"${text}": only IPv6 addresses go in brackets` };
  } else if (isIP(text) === 6) {
    if (defaultPort === undefined) return { ok: false, message: `"${text}": write an IPv6 address with a port as [addr]:port` };
    hostText = text;
  } else {
    const colon = text.lastIndexOf(':');
    hostText = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
  }
  const port = parsePort(portText, defaultPort, text);
  if (!port.ok) return port;
  if (isIP(hostText) !== 0 || hostText.includes('%')) {
    const ip = canonicalIp(hostText);
    if (!ip.ok) return ip;
    return { ok: true, value: { host: ip.value.address, port: port.value, family: ip.value.family } };
  }
  if (!HOSTNAME.test(hostText)) return { ok: false, message: `"${text}": "${hostText}" is neither an IP address nor a host name` };
  return { ok: true, value: { host: hostText.toLowerCase(), port: port.value } };
}

function parsePort(portText: string | undefined, defaultPort: number | undefined, whole: string): Parsed<number> {
  if (portText === undefined) {
    if (defaultPort === undefined) return { ok: false, message: `"${whole}": missing port (host:port)` };
    return { ok: true, value: defaultPort };
  }
  if (!/^\d{1,5}$/.test(portText)) return { ok: false, message: `"${whole}": invalid port "${portText}"` };
  const port = Number(portText);
  if (port < 1 || port > 65535) return { ok: false, message: `"${whole}": port must be 1..65535` };
  return { ok: true, value: port };
}

/** "host:port" with IPv6 in brackets, the inverse of parseHostPort. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
