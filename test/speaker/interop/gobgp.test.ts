/**
 * Interop with gobgpd 3.10 from Debian (test/harness/gobgpd.ts, shared with the GoBGP backend's
 * tests), asserted from `gobgp global rib -a ipv4|ipv6 -j`. GoBGP does not validate next hops
 * against a kernel table, so 198.18.0.1 / fd00::1 are taken as they are.
 */
import { describe } from 'vitest';
import { Gobgpd, gobgpVersions, type RibPath } from '../../harness/gobgpd.js';
import { freePort, loopbackAddress } from '../../harness/net.js';
import { interopScenario, LOCAL_AS, PEER_AS, type SeenRoute } from './scenario.js';

export function gobgpToml(address: string, port: number, neighbors: string[], multipath = false): string {
  const lines = ['[global.config]', `  as = ${PEER_AS}`, '  router-id = "10.255.0.3"', `  port = ${port}`, `  local-address-list = ["${address}"]`];
  if (multipath) lines.push('[global.use-multiple-paths.config]', '  enabled = true');
  for (const n of neighbors) {
    lines.push('[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${n}"`, `    peer-as = ${LOCAL_AS}`);
    lines.push('  [neighbors.transport.config]', '    passive-mode = true', '  [neighbors.timers.config]', '    hold-time = 9', '    keepalive-interval = 3');
    for (const af of ['ipv4-unicast', 'ipv6-unicast']) lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${af}"`);
  }
  return lines.join('\n') + '\n';
}

const num = (v: unknown): number => Number(v);

/** Attributes of one path of `gobgp global rib -j` (type codes of RFC 4271 and friends). */
export function gobgpSeen(p: RibPath): SeenRoute {
  const attr = (type: number): Record<string, unknown> | undefined => p.attrs.find((a) => a['type'] === type);
  const segments = (attr(2)?.['as_paths'] as Array<{ asns: number[] }> | undefined) ?? [];
  const communities = ((attr(8)?.['communities'] as number[] | undefined) ?? []).map((c) => `${Math.floor(c / 65536)}:${c % 65536}`);
  const large = ((attr(32)?.['value'] as Array<Record<string, unknown>> | undefined) ?? []).map(
    (l) => `${num(l['ASN'])}:${num(l['LocalData1'])}:${num(l['LocalData2'])}`,
  );
  const r: SeenRoute = {
    nextHop: (attr(3)?.['nexthop'] as string | undefined) ?? (attr(14)?.['nexthop'] as string | undefined) ?? p.nexthop ?? '',
    asPath: segments.flatMap((s) => s.asns),
    communities,
    largeCommunities: large,
  };
  const med = attr(4)?.['metric'];
  if (med !== undefined) r.med = num(med);
  return r;
}

const debian = gobgpVersions().find((v) => v.label.includes('Debian'))!;

describe('interop: gobgpd 3.10 (Debian)', () => {
  interopScenario(async (ours) => {
    const address = loopbackAddress();
    const port = await freePort(address);
    if (!debian.binary) throw new Error(debian.missing);
    const d = await Gobgpd.start({ binary: debian.binary, configToml: gobgpToml(address, port, [ours]) });
    return {
      address,
      port,
      routes: async (family) => new Map((await d.rib(family)).map((p) => [p.prefix, gobgpSeen(p)])),
      restart: async () => {
        await d.kill('SIGTERM');
        await d.launch();
      },
      // level=warning msg="received notification" Code=6 Communicated-Reason="<message>" ... Subcode=2
      loggedShutdown: (message) =>
        Promise.resolve(
          d.log.split('\n').some((l) => l.includes('received notification') && l.includes('Code=6') && l.includes('Subcode=2') && l.includes(`Communicated-Reason="${message}"`)),
        ),
      stop: () => d.stop(),
    };
  });
});
