/**
 * Legal configurations that probably do not do what was meant. They do not stop vipcast;
 * `vipcast check` prints them with the plan and `run` logs them.
 *
 * Decision (issue 2): an IPv6 VIP sent over an IPv4 session (or the reverse) needs a next hop of
 * the VIP's family that the session's local address cannot provide; without bgp.next_hop for
 * that family (or attributes.next_hop on the VIP) it is a warning, not an error, because
 * GoBGP-managed sessions or a later reload may legitimately supply one.
 */
import type { AddressFamily } from '../backend/types.js';
import { formatPath } from './issues.js';
import type { ParsedNeighbor } from './schema/bgp.js';
import type { PathSegment, YamlSource } from './source.js';
import type { ConfigIssue, VipcastConfig } from './types.js';

export function configWarnings(config: VipcastConfig, parsed: ParsedNeighbor[], source: YamlSource): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const warn = (path: PathSegment[], code: ConfigIssue['code'], message: string): void => {
    out.push({ file: source.file, line: source.lineOf(path), path: formatPath(path), code, message });
  };
  const { bgp, vips } = config;
  const managed = bgp.gobgpAddress === undefined || bgp.gobgp.manage;

  if (vips.length === 0) warn(['vips'], 'required', 'no VIPs are configured: nothing will be advertised');
  if (bgp.gobgpAddress !== undefined && bgp.gobgp.manage && bgp.neighbors.length === 0) {
    warn(['bgp', 'neighbors'], 'required', 'gobgp.manage: true with no neighbors removes every neighbor gobgpd has');
  }
  if (!managed) return out;

  for (const family of ['ipv4', 'ipv6'] as const) {
    const familyVips = vips.filter((v) => v.family === family);
    if (familyVips.length === 0) continue;
    const carriers = bgp.neighbors.filter((n) => n.families.includes(family));
    if (carriers.length === 0 && bgp.neighbors.length > 0) {
      familyVips.forEach((v) => {
        warn(['vips', vips.indexOf(v), 'prefix'], 'conflict', `no neighbor carries ${family}: ${v.prefix} will not be advertised`);
      });
    }
    const needNextHop = familyVips.filter((v) => v.attributes.nextHop === undefined);
    if (bgp.nextHop[family] !== undefined || needNextHop.length === 0) continue;
    bgp.neighbors.forEach((n, i) => {
      if (!n.families.includes(family) || addressFamily(n.localAddress ?? n.address) === family) return;
      const explicit = parsed[i]?.families !== undefined;
      warn(['bgp', 'neighbors', i, explicit ? 'families' : 'address'], 'conflict',
        `${family} VIPs over the ${otherName(family)} session to ${n.address} need a ${family} next hop: set bgp.next_hop.${family}`);
    });
  }
  return out;
}

function addressFamily(address: string): AddressFamily {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

function otherName(family: AddressFamily): string {
  return family === 'ipv4' ? 'IPv6' : 'IPv4';
}
