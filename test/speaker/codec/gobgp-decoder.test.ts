/**
 * Our encoder against an independent decoder: GoBGP's pkg/packet/bgp (Debian's
 * golang-github-osrg-gobgp-dev source, compiled once into a temp dir; gobgp-decoder/main.go)
 * parses what encodeMessage and packUpdates produce, and must read the same prefixes, next hops
 * and attributes we meant. The fixtures test the other direction (real daemons -> our decoder).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MessageType,
  ceaseNotification,
  encodeMessage,
  endOfRib,
  packUpdates,
  parseExtendedCommunity,
  type CodecOptions,
  type OutboundRoute,
  type UpdateMessage,
} from '../../../src/speaker/codec/index.js';
import { arbOpen, arbUpdate } from './arbitraries.js';

const GOBGP_SRC = '/usr/share/gocode/src/github.com/osrg/gobgp/pkg/packet/bgp';
function goBinary(): string | undefined {
  for (const go of ['go', '/usr/local/go/bin/go', '/usr/lib/go/bin/go']) {
    try {
      execFileSync(go, ['version'], { stdio: 'ignore' });
      return go;
    } catch {
      // not this one; try the next location (absence is reported by skipIf below)
    }
  }
  return undefined;
}
const GO = goBinary();
const missing = !GO ? 'no Go toolchain' : !existsSync(GOBGP_SRC) ? `no GoBGP source at ${GOBGP_SRC} (golang-github-osrg-gobgp-dev)` : '';

const OPTS: CodecOptions = { fourOctetAs: true, extendedMessage: false, extendedNextHopIpv4: true };

interface GoPrefix {
  prefix: string;
}
interface GoAttr {
  type: number;
  value?: unknown;
  nexthop?: string;
  afi?: number;
  safi?: number;
  as_paths?: Array<{ segment_type: number; asns: number[] }>;
  communities?: number[];
  metric?: number;
}
interface GoMessage {
  error?: string;
  Header?: { Len: number; Type: number };
  Body?: {
    WithdrawnRoutes?: GoPrefix[];
    NLRI?: GoPrefix[];
    PathAttributes?: GoAttr[];
    MyAS?: number;
    HoldTime?: number;
    ID?: string;
    OptParams?: Array<{ Capability?: Array<{ code: number }> }>;
    ErrorCode?: number;
    ErrorSubcode?: number;
    Data?: string;
  };
}

describe.skipIf(missing !== '')(`GoBGP's decoder reads what we encode${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let dir = '';
  let bin = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vipcast-gobgp-decoder-'));
    bin = join(dir, 'decoder');
    const src = join(dirname(fileURLToPath(import.meta.url)), 'gobgp-decoder');
    execFileSync(GO!, ['build', '-o', bin, '.'], { cwd: src, env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode' }, timeout: 170_000 });
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const parse = (messages: Buffer[]): GoMessage[] => {
    const out = execFileSync(bin, { input: messages.map((m) => m.toString('hex')).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28, timeout: 60_000 });
    const parsed = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as GoMessage);
    expect(parsed).toHaveLength(messages.length);
    return parsed;
  };
  const attrOf = (m: GoMessage, type: number) => m.Body?.PathAttributes?.find((a) => a.type === type);
  const prefixes = (list: unknown) => ((list as GoPrefix[] | undefined) ?? []).map((p) => p.prefix);

  it('UPDATEs with any attributes we model (property): same prefixes, next hops, AS path, communities, MED', () => {
    // GoBGP validates what it knows: keep extended communities to route targets and leave out
    // raw unknown attributes (their random values collide with codes GoBGP checks, e.g. AIGP).
    const arb = arbUpdate(OPTS).map((u): UpdateMessage => {
      const { unknown: _u, extendedCommunities, ...attributes } = u.attributes;
      return { ...u, attributes: { ...attributes, ...(extendedCommunities ? { extendedCommunities: extendedCommunities.map((_, i) => parseExtendedCommunity(`rt:65001:${i}`)) } : {}) } };
    });
    const updates = fc.sample(arb, 300);
    const go = parse(updates.map((u) => encodeMessage(u, OPTS)));
    updates.forEach((u, k) => {
      const g = go[k]!;
      expect(g.error, JSON.stringify(u)).toBeUndefined();
      expect(prefixes(g.Body?.NLRI)).toEqual(u.nlri.map((p) => p.prefix));
      expect(prefixes(g.Body?.WithdrawnRoutes)).toEqual(u.withdrawn.map((p) => p.prefix));
      const a = u.attributes;
      if (a.asPath) expect(attrOf(g, 2)?.as_paths?.map((s) => s.asns) ?? []).toEqual(a.asPath.map((s) => s.asns));
      if (a.nextHop) expect(attrOf(g, 3)?.nexthop).toBe(a.nextHop);
      if (a.med !== undefined) expect(attrOf(g, 4)?.metric).toBe(a.med);
      if (a.communities) expect(attrOf(g, 8)?.communities).toEqual(a.communities);
      if (a.largeCommunities) expect(attrOf(g, 32)?.value).toEqual(a.largeCommunities.map(([ASN, LocalData1, LocalData2]) => ({ ASN, LocalData1, LocalData2 })));
      if (a.mpReach) {
        const mp = attrOf(g, 14)!;
        expect([mp.afi, mp.safi]).toEqual([a.mpReach.afi, a.mpReach.safi]);
        expect(mp.nexthop).toBe(a.mpReach.nextHops[0]);
        expect(prefixes(mp.value)).toEqual(a.mpReach.nlri.map((p) => p.prefix));
      }
      if (a.mpUnreach) expect(prefixes(attrOf(g, 15)?.value)).toEqual(a.mpUnreach.withdrawn.map((p) => p.prefix));
    });
  });

  it('packUpdates: every prefix announced or withdrawn, with its group next hop', () => {
    const routes: OutboundRoute[] = [];
    for (let i = 0; i < 3000; i++) {
      const base = { origin: 'igp' as const, asPath: [4200000001], communities: [i % 3], largeCommunities: [], extendedCommunities: [] };
      routes.push({ ...base, prefix: { family: 'ipv4', prefix: `10.${(i >> 8) & 255}.${i & 255}.1/32` }, nextHop: '192.0.2.1' });
      routes.push({ ...base, prefix: { family: 'ipv6', prefix: `2001:db8::${(i + 1).toString(16)}/128` }, nextHop: '2001:db8::1', nextHopLinkLocal: 'fe80::1' });
    }
    routes.push({ origin: 'igp', asPath: [], prefix: { family: 'ipv4', prefix: '192.0.2.99/32' }, nextHop: '2001:db8::9', communities: [], largeCommunities: [], extendedCommunities: [] });
    const withdrawals = [{ prefix: { family: 'ipv4' as const, prefix: '198.51.100.0/24' } }, { prefix: { family: 'ipv6' as const, prefix: '2001:db8:ffff::/48' } }];
    const go = parse(packUpdates(routes, withdrawals, OPTS));
    const seen = new Map<string, string>();
    const gone: string[] = [];
    for (const g of go) {
      expect(g.error).toBeUndefined();
      expect(g.Header!.Len).toBeLessThanOrEqual(4096);
      const nh = attrOf(g, 3)?.nexthop;
      for (const p of prefixes(g.Body?.NLRI)) seen.set(p, nh!);
      const mp = attrOf(g, 14);
      for (const p of prefixes(mp?.value)) seen.set(p, mp!.nexthop!);
      gone.push(...prefixes(g.Body?.WithdrawnRoutes), ...prefixes(attrOf(g, 15)?.value));
    }
    expect(seen.size).toBe(routes.length);
    for (const r of routes) expect(seen.get(r.prefix.prefix), r.prefix.prefix).toBe(r.nextHop);
    expect(gone.sort()).toEqual(withdrawals.map((w) => w.prefix.prefix).sort());
  });

  it('OPEN with any capabilities, NOTIFICATION with a shutdown communication, KEEPALIVE, ROUTE-REFRESH, End-of-RIB', () => {
    // Raw capabilities get codes from the range reserved for private use (RFC 5492 §4): GoBGP
    // 3.10 interprets many others and chokes on random values (its FQDN decoder even panics).
    const opens = fc.sample(
      arbOpen.map((o) => ({ ...o, capabilities: o.capabilities.map((c) => (c.kind === 'unknown' ? { ...c, code: 240 + (c.code % 15) } : c)) })),
      100,
    );
    const cease = ceaseNotification(2, 'vipcast shutting down: ünïcödé ok');
    const go = parse([
      ...opens.map((o) => encodeMessage(o, OPTS)),
      encodeMessage(cease, OPTS),
      encodeMessage({ type: MessageType.Keepalive }, OPTS),
      encodeMessage({ type: MessageType.RouteRefresh, afi: 2, subtype: 0, safi: 1 }, OPTS),
      endOfRib('ipv4'),
      endOfRib('ipv6'),
    ]);
    opens.forEach((o, k) => {
      const g = go[k]!;
      expect(g.error, JSON.stringify(o)).toBeUndefined();
      expect({ as: g.Body?.MyAS, hold: g.Body?.HoldTime, id: g.Body?.ID }).toEqual({ as: o.myAs, hold: o.holdTimeSec, id: o.routerId });
      const codes = (g.Body?.OptParams ?? []).flatMap((p) => (p.Capability ?? []).map((c) => c.code));
      expect(codes, JSON.stringify(o.capabilities)).toHaveLength(o.capabilities.length);
    });
    const n = go[opens.length]!;
    expect([n.Body?.ErrorCode, n.Body?.ErrorSubcode]).toEqual([6, 2]);
    expect(Buffer.from(n.Body!.Data!, 'base64').equals(Buffer.from(cease.data))).toBe(true);
    for (const g of go.slice(opens.length + 1)) expect(g.error).toBeUndefined();
    expect(go.slice(opens.length + 1).map((g) => g.Header?.Type)).toEqual([4, 5, 2, 2]);
  });
});
